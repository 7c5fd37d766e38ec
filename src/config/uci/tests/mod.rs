//! Shared fixtures: FFMUC files exactly as `uci commit` writes them.

mod edit;
mod format;

use super::*;
use crate::error::Error;

pub(super) fn parse(text: &str) -> UciFile {
    match UciFile::parse(text, Path::new("/etc/config/test")) {
        Ok(file) => file,
        Err(e) => panic!("{text:?} should parse: {e}"),
    }
}

/// The line and problem of a parse error.
pub(super) fn parse_error(text: &str) -> (Option<usize>, String) {
    match UciFile::parse(text, Path::new("/etc/config/test")) {
        Ok(file) => panic!("{text:?} should not parse, got {file:?}"),
        Err(Error::Uci {
            file,
            line,
            problem,
        }) => {
            assert_eq!(file, Path::new("/etc/config/test"));
            (line, problem)
        }
        Err(other) => panic!("{text:?}: expected a UCI error, got {other:?}"),
    }
}

pub(super) const WIREGUARD: &str = concat!(
    "\nconfig wireguard 'mesh_vpn'\n",
    "\toption enabled '1'\n",
    "\toption privatekey 'eKOFnNpAU3oAmiNvcRiOb3PRGmt9D4Oe+vw7zv6uRUU='\n",
    "\toption loadbalancing '1'\n",
    "\nconfig peer 'peer_1'\n",
    "\toption enabled '1'\n",
    "\toption endpoint 'gw04.ext.ffmuc.net:40011'\n",
    "\toption publickey 'TszFS3oFRdhsJP3K0VOlklGMGYZy+oFCtlaghXJqW2g='\n",
    "\toption link_address 'fe80::27c:16ff:fec0:6c74'\n",
    "\nconfig peer 'peer_2'\n",
    "\toption enabled '1'\n",
    "\toption endpoint 'gw05.ext.ffmuc.net:40011'\n",
    "\toption publickey 'igyqOmWiz4EZxPG8ZzU537MnHhaqlwfa7HarB3KmnEg='\n",
    "\toption link_address 'fe80::281:8eff:fef0:73aa'\n",
    "\nconfig peer 'peer_3'\n",
    "\toption enabled '1'\n",
    "\toption endpoint '[2a01:4f8:1c0c:42f4::1]:40011'\n",
    "\toption publickey 'pkRaUOoLuuHnUt9BEGeKrhF3OMYBPecc0iYkika6uhE='\n",
    "\toption link_address 'fe80::2e4:88ff:fe1b:8a2d'\n",
    "\toption preserve '1'\n",
    "\n",
);

pub(super) const GLUON: &str = concat!(
    "\nconfig core 'core'\n",
    "\toption domain 'ffmuc_muc_cty'\n",
    "\toption reconfigure '0'\n",
    "\nconfig mesh_vpn 'mesh_vpn'\n",
    "\toption enabled '1'\n",
    "\toption limit_enabled '0'\n",
    "\toption limit_ingress '50000'\n",
    "\toption limit_egress '10000'\n",
    "\n",
);

pub(super) const SYSTEM: &str = concat!(
    "\nconfig system\n",
    "\toption hostname 'ffmuc-werkstatt'\n",
    "\toption timezone 'CET-1CEST,M3.5.0,M10.5.0/3'\n",
    "\nconfig timeserver 'ntp'\n",
    "\toption enabled '1'\n",
    "\tlist server '0.ntp.ffmuc.net'\n",
    "\tlist server '1.ntp.ffmuc.net'\n",
    "\n",
);
