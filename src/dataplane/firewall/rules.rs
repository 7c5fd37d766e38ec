//! The rule itself, as each tool spells it: accept VXLAN (UDP 8472) coming
//! in on the WireGuard interface (domain.md 1.2 step 18). Pure text, no I/O.

use crate::link::VXLAN_PORT;

/// Marks our nft rule so it can be found and removed again.
pub const RULE_COMMENT: &str = "mesh-vpn-wg";

pub fn rule_text(interface: &str) -> String {
    format!("in {interface} udp dport {VXLAN_PORT} accept")
}

/// checkuplink's ip6tables rule; `action` is `-C`, `-I` (at position 1) or `-D`.
pub fn ip6tables_args(action: &'static str, interface: &str) -> Vec<String> {
    let mut args = vec!["-w".to_string(), action.to_string(), "INPUT".to_string()];
    if action == "-I" {
        args.push("1".into());
    }
    let port = VXLAN_PORT.to_string();
    let rule = [
        "-i", interface, "-p", "udp", "-m", "udp", "--dport", &port, "-j", "ACCEPT",
    ];
    args.extend(rule.iter().map(|part| part.to_string()));
    args
}

pub fn nft_insert_args(interface: &str) -> Vec<String> {
    let port = VXLAN_PORT.to_string();
    let quoted_comment = format!("\"{RULE_COMMENT}\"");
    let rule = [
        "insert",
        "rule",
        "inet",
        "fw4",
        "input",
        "iifname",
        interface,
        "udp",
        "dport",
        &port,
        "accept",
        "comment",
        &quoted_comment,
    ];
    rule.iter().map(|part| part.to_string()).collect()
}

pub fn nft_list_args() -> Vec<String> {
    ["-a", "list", "chain", "inet", "fw4", "input"]
        .map(String::from)
        .to_vec()
}

pub fn nft_delete_args(handle: &str) -> Vec<String> {
    ["delete", "rule", "inet", "fw4", "input", "handle", handle]
        .map(String::from)
        .to_vec()
}

/// The handles of our rules in an `nft -a list chain inet fw4 input`
/// listing, found by interface, port and comment.
pub fn nft_handles(listing: &str, interface: &str) -> Vec<String> {
    let wanted =
        format!("iifname \"{interface}\" udp dport {VXLAN_PORT} accept comment \"{RULE_COMMENT}\"");
    listing
        .lines()
        .filter(|line| line.contains(&wanted))
        .filter_map(|line| {
            line.rsplit_once("# handle ")
                .map(|(_, h)| h.trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip6tables_rule_is_checkuplinks() {
        let args = ip6tables_args("-I", "wg_mesh_vpn").join(" ");
        assert_eq!(
            args,
            "-w -I INPUT 1 -i wg_mesh_vpn -p udp -m udp --dport 8472 -j ACCEPT"
        );
        let check = ip6tables_args("-C", "wg_mesh_vpn").join(" ");
        assert_eq!(
            check,
            "-w -C INPUT -i wg_mesh_vpn -p udp -m udp --dport 8472 -j ACCEPT"
        );
    }

    #[test]
    fn nft_rule_names_interface_port_and_comment() {
        let args = nft_insert_args("wg_mesh_vpn").join(" ");
        assert_eq!(
            args,
            "insert rule inet fw4 input iifname wg_mesh_vpn udp dport 8472 accept comment \"mesh-vpn-wg\""
        );
    }

    #[test]
    fn nft_handles_are_ours_only() {
        let listing = "table inet fw4 {\n chain input {\n  iifname \"wg0\" udp dport 8472 accept comment \"mesh-vpn-wg\" # handle 7\n  iifname \"wg1\" udp dport 8472 accept comment \"mesh-vpn-wg\" # handle 8\n  iifname \"wg0\" udp dport 8472 accept # handle 9\n }\n}\n";
        assert_eq!(nft_handles(listing, "wg0"), ["7"]);
        assert!(nft_handles(listing, "wg2").is_empty());
    }
}
