//! The file format: what `uci commit` writes round-trips byte for byte, what
//! libuci reads is read the same way, and every malformed statement is named.

use super::*;

#[test]
fn what_uci_commit_writes_round_trips_byte_for_byte() {
    let text = concat!(
        "\nconfig misc 'values'\n",
        "\toption apostrophe 'it'\\''s '\\'''\\'''\n",
        "\toption empty ''\n",
        "\toption spaces '  two  spaces '\n",
        "\toption hash '#not a comment'\n",
        "\toption backslashes 'C:\\dir\\n\\'\n",
        "\toption double '\"quoted\" $HOME'\n",
        "\toption unicode 'Grüße aus München ✓ 東京'\n",
        "\tlist item 'a'\n",
        "\tlist item 'b c'\n",
        "\toption multi 'line one\nline two'\n",
        "\nconfig item\n",
        "\toption name 'anonymous'\n",
        "\nconfig dashed-type 'x'\n",
        "\nconfig item\n",
        "\n",
    );
    let file = parse(text);
    assert_eq!(file.to_text(), text);

    let values = file.section("values").expect("section values");
    assert_eq!(values.get("apostrophe"), Some("it's ''"));
    assert_eq!(values.get("empty"), Some(""));
    assert_eq!(values.get("spaces"), Some("  two  spaces "));
    assert_eq!(values.get("hash"), Some("#not a comment"));
    assert_eq!(values.get("backslashes"), Some(r"C:\dir\n\"));
    assert_eq!(values.get("double"), Some("\"quoted\" $HOME"));
    assert_eq!(values.get("unicode"), Some("Grüße aus München ✓ 東京"));
    assert_eq!(
        values.get_list("item"),
        Some(&["a".to_string(), "b c".to_string()][..])
    );
    assert_eq!(values.get("multi"), Some("line one\nline two"));
    let items: Vec<_> = file.sections("item").map(|s| s.name.clone()).collect();
    assert_eq!(items, [None, None]);
    assert_eq!(file.sections("dashed-type").count(), 1);
}

#[test]
fn an_empty_file_is_a_single_newline() {
    assert_eq!(parse("").to_text(), "\n");
    assert_eq!(parse("\n\n# only a comment\n").to_text(), "\n");
    assert_eq!(UciFile::empty("/x").to_text(), "\n");
}

#[test]
fn an_ffmuc_wireguard_file() {
    let file = parse(WIREGUARD);
    assert_eq!(file.to_text(), WIREGUARD);
    assert_eq!(file.get("mesh_vpn", "enabled"), Some("1"));
    assert_eq!(
        file.get("mesh_vpn", "privatekey"),
        Some("eKOFnNpAU3oAmiNvcRiOb3PRGmt9D4Oe+vw7zv6uRUU=")
    );
    assert_eq!(file.get("mesh_vpn", "loadbalancing"), Some("1"));
    let peers: Vec<_> = file
        .sections("peer")
        .filter_map(|s| s.name.as_deref())
        .collect();
    assert_eq!(peers, ["peer_1", "peer_2", "peer_3"]);
    assert_eq!(
        file.get("peer_3", "endpoint"),
        Some("[2a01:4f8:1c0c:42f4::1]:40011")
    );
    assert_eq!(file.get("peer_3", "preserve"), Some("1"));
    assert_eq!(file.get("peer_1", "preserve"), None);
    assert_eq!(
        file.section("mesh_vpn").map(|s| s.kind.as_str()),
        Some("wireguard")
    );
}

#[test]
fn ffmuc_gluon_and_system_files() {
    let gluon = parse(GLUON);
    assert_eq!(gluon.to_text(), GLUON);
    assert_eq!(gluon.get("core", "domain"), Some("ffmuc_muc_cty"));
    assert_eq!(gluon.get("mesh_vpn", "limit_ingress"), Some("50000"));

    let system = parse(SYSTEM);
    assert_eq!(system.to_text(), SYSTEM);
    let servers = ["0.ntp.ffmuc.net".to_string(), "1.ntp.ffmuc.net".to_string()];
    assert_eq!(system.get_list("ntp", "server"), Some(&servers[..]));
    assert_eq!(
        system.get("ntp", "server"),
        None,
        "a list is not a single value"
    );
    assert_eq!(
        system.get_list("ntp", "enabled"),
        Some(&["1".to_string()][..])
    );
    let anonymous = system.sections("system").next().expect("config system");
    assert_eq!(anonymous.name, None);
    assert_eq!(anonymous.get("hostname"), Some("ffmuc-werkstatt"));
}

#[test]
fn reads_the_forms_uci_accepts_but_does_not_write() {
    let text = concat!(
        "# written by hand\n",
        "package wireguard\n",
        "\n",
        "config 'wireguard' \"mesh_vpn\"   # a trailing comment\n",
        "\toption enabled 1\n",
        "  option  quoted  \"say \\\"hi\\\" \\\\ \\$x\"\n",
        "\toption concat 'it'\\''s'\n",
        "\toption mixed foo\"bar\"'baz'\n",
        "\toption escaped a\\ b\\#c\n",
        "\toption word x#y\n",
        "\t\tlist servers one\n",
        "\tlist servers \\\n",
        "\t\ttwo\n",
        "\toption joined abc\\\n",
        "def\n",
        "\toption dq \"first \\\n",
        "second\"\r\n",
        "\toption enabled 0\n",
    );
    let expected = concat!(
        "\nconfig wireguard 'mesh_vpn'\n",
        "\toption enabled '0'\n",
        "\toption quoted 'say \"hi\" \\ $x'\n",
        "\toption concat 'it'\\''s'\n",
        "\toption mixed 'foobarbaz'\n",
        "\toption escaped 'a b#c'\n",
        "\toption word 'x#y'\n",
        "\tlist servers 'one'\n",
        "\tlist servers 'two'\n",
        "\toption joined 'abcdef'\n",
        "\toption dq 'first second'\n",
        "\n",
    );
    assert_eq!(parse(text).to_text(), expected);
}

#[test]
fn repeated_sections_merge_and_later_statements_win() {
    let text = concat!(
        "config peer 'peer_1'\n",
        "\toption endpoint 'old'\n",
        "\toption enabled '1'\n",
        "config peer 'peer_2'\n",
        "\toption endpoint 'b'\n",
        "config peer 'peer_1'\n",
        "\toption endpoint 'new'\n",
        "\tlist enabled 'x'\n",
        "\tlist enabled 'y'\n",
        "\toption preserve '1'\n",
        "config peer\n",
        "config peer\n",
        "\tlist ip 'a'\n",
        "\toption ip 'b'\n",
    );
    let expected = concat!(
        "\nconfig peer 'peer_1'\n",
        "\toption endpoint 'new'\n",
        "\tlist enabled 'x'\n",
        "\tlist enabled 'y'\n",
        "\toption preserve '1'\n",
        "\nconfig peer 'peer_2'\n",
        "\toption endpoint 'b'\n",
        "\nconfig peer\n",
        "\nconfig peer\n",
        "\toption ip 'b'\n",
        "\n",
    );
    assert_eq!(parse(text).to_text(), expected);
}

#[test]
fn every_malformed_statement_is_named_with_its_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("config a 'b\n\toption x y\n", 1, "unterminated '"),
        ("\n\nconfig a b\n\toption x \"abc\n", 4, "unterminated \""),
        ("config a\n\toption x \"abc\\", 2, "unterminated \""),
        ("option a b\n", 1, "before the first 'config'"),
        ("package p\n\n  list a b\n", 3, "before the first 'config'"),
        ("config a 'b c'\n", 1, "invalid section name 'b c'"),
        ("config a 'b-c'\n", 1, "invalid section name 'b-c'"),
        ("config a ''\n", 1, "invalid section name ''"),
        ("config 'a b'\n", 1, "invalid section type 'a b'"),
        (
            "config a\n\toption 'x.y' 1\n",
            2,
            "invalid option name 'x.y'",
        ),
        ("config a\n\tlist '' 1\n", 2, "invalid option name ''"),
        (
            "config a\n\toption word#hash x\n",
            2,
            "invalid option name 'word#hash'",
        ),
        ("config a b c\n", 1, "too many words after 'config'"),
        ("# c\nconfig\n", 2, "too few words after 'config'"),
        ("config a\n\toption x\n", 2, "too few words after 'option'"),
        (
            "config a\n\toption x y z\n",
            2,
            "too many words after 'option'",
        ),
        ("config a\n\tlist x\n", 2, "too few words after 'list'"),
        (
            "config a\n\tlist x 'y' z\n",
            2,
            "too many words after 'list'",
        ),
        ("package\n", 1, "too few words after 'package'"),
        ("package a b\n", 1, "too many words after 'package'"),
        (
            "config a\n\tfrobnicate x y\n",
            2,
            "unknown keyword 'frobnicate'",
        ),
        ("config a\n\tOption x y\n", 2, "unknown keyword 'Option'"),
        (
            "config a 'n'\nconfig b 'n'\n",
            2,
            "repeats a section of type 'a'",
        ),
        // The statement's line is where it starts, even when it continues.
        ("config a\n\toption x \\\n y \\\n z\n", 2, "too many words"),
        (
            "config a\n\toption x 'one\ntwo'\noption y\n",
            4,
            "too few words",
        ),
    ];
    for &(text, line, problem) in cases {
        let (found_line, found_problem) = parse_error(text);
        assert_eq!(found_line, Some(line), "line for {text:?}: {found_problem}");
        assert!(
            found_problem.contains(problem),
            "{text:?}: expected {problem:?} in {found_problem:?}"
        );
    }
}

#[test]
fn errors_name_the_file_and_line() {
    let error = UciFile::parse("config a\n\toption x\n", Path::new("/etc/config/wireguard"))
        .expect_err("too few words");
    let message = error.to_string();
    assert!(
        message.starts_with("/etc/config/wireguard:2: "),
        "{message}"
    );
}

#[test]
fn load_treats_a_missing_file_as_empty_and_rejects_bad_utf8() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("wireguard");
    let empty = UciFile::load(&missing).expect("missing file");
    assert_eq!(empty.to_text(), "\n");
    assert_eq!(empty.path(), missing);

    std::fs::write(&missing, b"config a\n\toption x '\xff'\n").expect("write");
    match UciFile::load(&missing) {
        Err(Error::Uci { line, problem, .. }) => {
            assert_eq!(line, Some(2));
            assert!(problem.contains("UTF-8"), "{problem}");
        }
        other => panic!("expected a UTF-8 error, got {other:?}"),
    }

    let error = UciFile::load(dir.path()).expect_err("a directory is not a file");
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
}
