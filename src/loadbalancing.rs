//! Who picks the gateway: the broker (loadbalancing, wgkex API v2) or the node
//! (a random site peer, API v1). The site sets the mode; in the two
//! `*-by-default` modes the node owner may override it in UCI.

use serde::Serialize;

/// `mesh_vpn.wireguard.loadbalancing` of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteMode {
    On,
    Off,
    OnByDefault,
    OffByDefault,
}

impl SiteMode {
    pub const NAMES: &'static str = "'on', 'off', 'on-by-default' or 'off-by-default'";

    pub fn parse(text: &str) -> Option<SiteMode> {
        Some(match text {
            "on" => SiteMode::On,
            "off" => SiteMode::Off,
            "on-by-default" => SiteMode::OnByDefault,
            "off-by-default" => SiteMode::OffByDefault,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SiteMode::On => "on",
            SiteMode::Off => "off",
            SiteMode::OnByDefault => "on-by-default",
            SiteMode::OffByDefault => "off-by-default",
        }
    }
}

/// Who made the effective decision, for `explain` and `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The site fixed the mode (`on` or `off`).
    Site,
    /// The site's default applies; the owner has not overridden it.
    SiteDefault,
    /// The owner's UCI override `wireguard.mesh_vpn.loadbalancing`.
    Override,
    /// The site has no loadbalancing key: treated as `off`.
    SiteKeyAbsent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// The site's mode; `None` when the site has no loadbalancing key.
    pub site_mode: Option<SiteMode>,
    /// The owner's override as UCI holds it (`'1'` → true, `'0'` → false).
    #[serde(rename = "override")]
    pub override_: Option<bool>,
    pub effective: bool,
    pub user_changeable: bool,
    pub decided_by: DecidedBy,
}

/// Reads the UCI override: only the exact strings `1` and `0` count, as in checkuplink.
pub fn parse_override(uci_value: Option<&str>) -> Option<bool> {
    match uci_value {
        Some("1") => Some(true),
        Some("0") => Some(false),
        _ => None,
    }
}

/// The table of domain.md 4.6. An absent site key means `off`: that is what
/// checkuplink's own log line says it does ("assuming 'off'"), while the
/// script actually returned "on" there, a bug we do not reproduce.
pub fn decide(site_mode: Option<SiteMode>, override_: Option<bool>) -> Decision {
    let (effective, user_changeable, decided_by) = match (site_mode, override_) {
        (Some(SiteMode::On), _) => (true, false, DecidedBy::Site),
        (Some(SiteMode::Off), _) => (false, false, DecidedBy::Site),
        (None, _) => (false, false, DecidedBy::SiteKeyAbsent),
        (Some(_), Some(value)) => (value, true, DecidedBy::Override),
        (Some(mode), None) => (mode == SiteMode::OnByDefault, true, DecidedBy::SiteDefault),
    };
    Decision {
        site_mode,
        override_,
        effective,
        user_changeable,
        decided_by,
    }
}

impl Decision {
    /// One sentence for people: what happens and who decided it.
    pub fn explain(&self) -> String {
        let what = if self.effective {
            "on: the broker assigns the gateway (wgkex API v2, falling back to v1 and a site peer)"
        } else {
            "off: the node picks one of the site's gateways (wgkex API v1)"
        };
        let who = match self.decided_by {
            DecidedBy::Site => "fixed by the site".to_string(),
            DecidedBy::SiteDefault => format!(
                "site default '{}', no override set",
                self.site_mode.map_or("", SiteMode::as_str)
            ),
            DecidedBy::Override => format!(
                "override wireguard.mesh_vpn.loadbalancing='{}' (site allows it: '{}')",
                if self.effective { 1 } else { 0 },
                self.site_mode.map_or("", SiteMode::as_str)
            ),
            DecidedBy::SiteKeyAbsent => {
                "site sets no mesh_vpn.wireguard.loadbalancing, which means off".to_string()
            }
        };
        format!("{what}; {who}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SiteMode::*;

    #[test]
    fn follows_the_reference_table_for_every_mode_and_override() {
        // (site mode, override) -> (effective, user may change)
        let table = [
            (Some(On), None, true, false),
            (Some(On), Some(false), true, false),
            (Some(On), Some(true), true, false),
            (Some(Off), None, false, false),
            (Some(Off), Some(true), false, false),
            (Some(Off), Some(false), false, false),
            (Some(OnByDefault), None, true, true),
            (Some(OnByDefault), Some(false), false, true),
            (Some(OnByDefault), Some(true), true, true),
            (Some(OffByDefault), None, false, true),
            (Some(OffByDefault), Some(true), true, true),
            (Some(OffByDefault), Some(false), false, true),
            (None, None, false, false),
            (None, Some(true), false, false),
        ];
        for (mode, ov, effective, changeable) in table {
            let d = decide(mode, ov);
            assert_eq!(
                (d.effective, d.user_changeable),
                (effective, changeable),
                "{mode:?} {ov:?}"
            );
        }
    }

    #[test]
    fn only_exact_one_and_zero_count_as_override() {
        assert_eq!(parse_override(Some("1")), Some(true));
        assert_eq!(parse_override(Some("0")), Some(false));
        for other in ["true", "on", " 1", "", "yes"] {
            assert_eq!(parse_override(Some(other)), None, "{other}");
        }
        assert_eq!(parse_override(None), None);
    }

    #[test]
    fn site_modes_parse_strictly_and_say_who_decided() {
        for mode in [On, Off, OnByDefault, OffByDefault] {
            assert_eq!(SiteMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(SiteMode::parse("On"), None);
        assert_eq!(
            decide(Some(OnByDefault), Some(false)).decided_by,
            DecidedBy::Override
        );
        assert!(
            decide(Some(OnByDefault), Some(false))
                .explain()
                .contains("override")
        );
        assert!(decide(None, None).explain().contains("means off"));
        assert!(
            decide(Some(On), None)
                .explain()
                .contains("fixed by the site")
        );
    }
}
