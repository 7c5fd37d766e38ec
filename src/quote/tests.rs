use super::*;

#[test]
fn plain_values_are_only_quoted() {
    assert_eq!(quote("gw1.ffmuc.net"), "'gw1.ffmuc.net'");
    assert_eq!(quote(""), "''");
    assert_eq!(quote("Grüße 🚀"), "'Grüße 🚀'");
    assert_eq!(one_line("no change: 'x' \\ ü"), "no change: 'x' \\ ü");
    assert!(matches!(one_line("plain"), Cow::Borrowed(_)));
}

#[test]
fn the_issues_reply_reads_as_one_line() {
    assert_eq!(quote("$(reboot);`id`\n\0"), "'$(reboot);`id`\\n\\0'");
    assert_eq!(quote("a'b\\c"), "'a\\'b\\\\c'");
    assert_eq!(quote("\x1b[31mred\x7f"), "'\\x1b[31mred\\x7f'");
    assert_eq!(quote("\r\t"), "'\\r\\t'");
}

#[test]
fn c1_bidi_and_separators_are_escaped() {
    assert_eq!(quote("\u{85}\u{9b}"), "'\\u{85}\\u{9b}'");
    assert_eq!(quote("a\u{202e}b\u{2028}"), "'a\\u{202e}b\\u{2028}'");
    assert_eq!(one_line("x\ny\u{9b}"), "x\\ny\\u{9b}");
}

#[test]
fn invalid_utf8_shows_its_bytes() {
    assert_eq!(
        quote(b"ok\xff\xc3(\xed\xa0\x80"),
        "'ok\\xff\\xc3(\\xed\\xa0\\x80'"
    );
}

#[test]
fn long_values_are_cut_with_their_length() {
    let long = "x".repeat(SHOWN + 1);
    let shown = quote(&long);
    assert_eq!(
        shown,
        format!("'{}'… ({} bytes)", "x".repeat(SHOWN), SHOWN + 1)
    );
    assert_eq!(quote("y".repeat(SHOWN)), format!("'{}'", "y".repeat(SHOWN)));
    // Escapes count as shown: a value of newlines is cut at half the characters.
    let newlines = quote("\n".repeat(SHOWN));
    assert!(
        newlines.ends_with(&format!("'… ({SHOWN} bytes)")),
        "{newlines}"
    );
    assert_eq!(newlines.matches("\\n").count(), SHOWN / 2);
}
