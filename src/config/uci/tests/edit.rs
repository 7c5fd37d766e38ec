//! Editing the model: `set` and `delete` keep order and never produce a file
//! that could not be read back.

use super::*;

#[test]
fn set_replaces_in_place_and_creates_named_sections_at_the_end() {
    let mut file = parse(WIREGUARD);
    file.set("peer_1", "ignored", "endpoint", "gw01.ext.ffmuc.net:40011")
        .expect("set existing");
    file.set("mesh_vpn", "wireguard", "note", "it's new")
        .expect("set new option");
    file.set("extra", "wireguard-extra", "empty", "")
        .expect("set new section");
    let expected = WIREGUARD
        .replace("gw04.ext.ffmuc.net:40011", "gw01.ext.ffmuc.net:40011")
        .replace(
            "\toption loadbalancing '1'\n",
            "\toption loadbalancing '1'\n\toption note 'it'\\''s new'\n",
        )
        .replace(
            "\toption preserve '1'\n\n",
            "\toption preserve '1'\n\nconfig wireguard-extra 'extra'\n\toption empty ''\n\n",
        );
    assert_eq!(file.to_text(), expected);
    assert_eq!(
        file.section("peer_1").map(|s| s.kind.as_str()),
        Some("peer")
    );
    assert_eq!(parse(&expected).to_text(), expected);
}

#[test]
fn set_turns_a_list_into_a_single_value() {
    let mut system = parse(SYSTEM);
    system
        .set("ntp", "timeserver", "server", "ntp.example")
        .expect("set");
    assert_eq!(system.get("ntp", "server"), Some("ntp.example"));
    assert!(
        system
            .to_text()
            .contains("\toption enabled '1'\n\toption server 'ntp.example'\n")
    );
}

#[test]
fn set_refuses_what_could_not_be_read_back() {
    let mut file = parse(WIREGUARD);
    let refused = [
        ("mesh vpn", "wireguard", "enabled", "1", "section name"),
        ("mesh_vpn", "wire guard", "enabled", "1", "section type"),
        ("mesh_vpn", "wireguard", "en.abled", "1", "option name"),
        ("mesh_vpn", "wireguard", "", "1", "option name"),
        ("mesh_vpn", "wireguard", "enabled", "1\0", "NUL"),
    ];
    for (section, kind, option, value, problem) in refused {
        match file.set(section, kind, option, value) {
            Err(Error::Uci {
                line: None,
                problem: found,
                ..
            }) => {
                assert!(
                    found.contains(problem),
                    "{found:?} should mention {problem}"
                )
            }
            other => panic!("set({section:?}, {kind:?}, {option:?}) gave {other:?}"),
        }
    }
    assert_eq!(file.to_text(), WIREGUARD);
}

#[test]
fn delete_removes_one_option() {
    let mut file = parse(WIREGUARD);
    assert!(file.delete("mesh_vpn", "loadbalancing"));
    assert!(!file.delete("mesh_vpn", "loadbalancing"));
    assert!(!file.delete("no_such_section", "enabled"));
    assert_eq!(file.get("mesh_vpn", "loadbalancing"), None);
    assert_eq!(
        file.to_text(),
        WIREGUARD.replace("\toption loadbalancing '1'\n", "")
    );
}
