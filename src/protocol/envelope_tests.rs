//! Byte-level cases from Relay's `envelope/mod.rs` tests and protocol.md §3.1.

use bytes::Bytes;

use super::*;

const ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    Envelope::parse(Bytes::copy_from_slice(bytes))
}

fn payloads(bytes: &[u8]) -> Vec<Vec<u8>> {
    let envelope = parse(bytes).expect("valid envelope");
    envelope.items.iter().map(|item| item.payload.to_vec()).collect()
}

fn error(bytes: &[u8]) -> String {
    parse(bytes).expect_err("invalid envelope").to_string()
}

#[test]
fn header_only_envelopes_parse_with_or_without_newline() {
    for body in [format!("{{\"event_id\":\"{ID}\"}}"), format!("{{\"event_id\":\"{ID}\"}}\n")] {
        let envelope = parse(body.as_bytes()).expect("valid");
        assert_eq!(envelope.headers.event_id.map(|id| id.to_string()).as_deref(), Some(ID));
        assert!(envelope.items.is_empty());
    }
}

#[test]
fn empty_items_with_length_zero_parse_with_and_without_final_newline() {
    let with = format!(
        "{{\"event_id\":\"{ID}\"}}\n{{\"type\":\"attachment\",\"length\":0}}\n\n{{\"type\":\"attachment\",\"length\":0}}\n\n"
    );
    let without = format!(
        "{{\"event_id\":\"{ID}\"}}\n{{\"type\":\"attachment\",\"length\":0}}\n\n{{\"type\":\"attachment\",\"length\":0}}"
    );
    assert_eq!(payloads(with.as_bytes()), vec![Vec::<u8>::new(), Vec::new()]);
    assert_eq!(payloads(without.as_bytes()), vec![Vec::<u8>::new(), Vec::new()]);
}

#[test]
fn implicit_length_runs_to_newline_or_end_of_file() {
    let newline = b"{}\n{\"type\":\"attachment\"}\nhelloworld\n";
    let eof = b"{}\n{\"type\":\"attachment\"}\nhelloworld";
    let empty_eof = b"{}\n{\"type\":\"attachment\"}";
    assert_eq!(payloads(newline), vec![b"helloworld".to_vec()]);
    assert_eq!(payloads(eof), vec![b"helloworld".to_vec()]);
    assert_eq!(payloads(empty_eof), vec![Vec::<u8>::new()]);
}

#[test]
fn carriage_return_before_an_implicit_terminator_is_payload() {
    assert_eq!(payloads(b"{}\n{\"type\":\"event\"}\n{}\r\n"), vec![b"{}\r".to_vec()]);
}

#[test]
fn length_payloads_may_contain_bom_crlf_and_newlines() {
    let body = b"{}\n{\"type\":\"attachment\",\"length\":10,\"filename\":\"hello.txt\"}\n\xef\xbb\xbfHello\r\n\n{\"type\":\"event\",\"length\":41}\n{\"message\":\"hello world\",\"level\":\"error\"}\n";
    let items = payloads(body);
    assert_eq!(items[0], b"\xef\xbb\xbfHello\r\n".to_vec());
    assert_eq!(items[1], br#"{"message":"hello world","level":"error"}"#.to_vec());
}

#[test]
fn blank_lines_between_items_are_skipped() {
    let body = b"{}\n{\"type\":\"session\"}\n{}\n\n\n{\"type\":\"session\"}\n{}";
    assert_eq!(payloads(body).len(), 2);
}

#[test]
fn payloads_are_slices_of_the_input() {
    let body = Bytes::from_static(b"{}\n{\"type\":\"attachment\",\"length\":3}\nabc\n");
    let envelope = Envelope::parse(body.clone()).expect("valid");
    let payload = &envelope.items[0].payload;
    let offset = payload.as_ptr() as usize - body.as_ptr() as usize;
    assert_eq!(&body[offset..offset + 3], b"abc");
}

#[test]
fn unknown_item_types_and_header_keys_are_kept() {
    let body = br#"{"dsn":"https://k@h/1","trace":{"trace_id":"x"},"sent_at":null}
{"type":"hologram","length":2,"x-custom":true,"item_count":1}
ab
"#;
    let envelope = parse(body).expect("valid");
    assert_eq!(envelope.headers.dsn.as_deref(), Some("https://k@h/1"));
    assert_eq!(envelope.headers.sent_at, None);
    assert!(envelope.headers.other.contains_key("trace"));
    let item = &envelope.items[0];
    assert_eq!(item.ty, ItemType::Unknown("hologram".into()));
    assert_eq!(item.headers.other.get("x-custom"), Some(&Value::Bool(true)));
    assert_eq!(item.headers.item_count, Some(1));
}

#[test]
fn unparsable_sent_at_is_dropped_not_fatal() {
    let envelope = parse(b"{\"sent_at\":\"soon\"}\n").expect("valid");
    assert_eq!(envelope.headers.sent_at, None);
    let envelope = parse(b"{\"sent_at\":\"2024-05-01T10:00:00.5Z\"}").expect("valid");
    assert_eq!(envelope.headers.sent_at.map(|t| t.unix_timestamp()), Some(1714557600));
}

#[test]
fn empty_body_has_no_header() {
    assert_eq!(error(b""), "missing envelope header");
    assert_eq!(error(b" \n "), "missing envelope header");
}

#[test]
fn crlf_after_the_header_is_rejected() {
    assert_eq!(error(b"{}\r\n{\"type\":\"event\"}\n{}"), "missing newline after envelope header at byte 2");
    assert_eq!(error(b"{}\n{\"type\":\"event\"}\r\n{}"), "item 0: missing newline after item header at byte 19");
}

#[test]
fn two_newlines_after_an_implicit_payload_are_an_unexpected_end() {
    assert_eq!(error(b"{}\n{\"type\":\"event\"}\n{}\n\n"), "item 1: unexpected end of file");
}

#[test]
fn length_beyond_the_body_is_truncation() {
    assert_eq!(
        error(b"{}\n{\"type\":\"attachment\",\"length\":500}\nabc"),
        "item 0: length 500 exceeds remaining 3 bytes"
    );
}

#[test]
fn bytes_after_a_length_payload_must_be_a_newline() {
    assert_eq!(
        error(b"{}\n{\"type\":\"attachment\",\"length\":2}\nabc\n"),
        "item 0: missing newline after payload at byte 38"
    );
}

#[test]
fn item_headers_need_a_string_type_and_a_u32_length() {
    assert_eq!(error(b"{}\n{\"length\":2}\nab"), "item 0: missing item type");
    assert_eq!(error(b"{}\n{\"type\":5}\nab"), "item 0: missing item type");
    assert_eq!(error(b"{}\n{\"type\":\"event\",\"length\":-1}\n"), "item 0: invalid item header");
    assert_eq!(error(b"{}\n[1]\n"), "item 0: invalid item header");
}

#[test]
fn invalid_header_json_and_bad_event_ids_are_rejected() {
    assert_eq!(error(b"{\"event_id\":\n"), "invalid envelope header");
    assert_eq!(error(b"[]\n"), "invalid envelope header");
    assert_eq!(error(b"{\"event_id\":\"nope\"}\n"), "invalid envelope header");
    assert_eq!(error(b"{\"event_id\":42}\n"), "invalid envelope header");
}

#[test]
fn integration_items_are_forbidden() {
    assert_eq!(error(b"{}\n{\"type\":\"integration\"}\n{}"), "item 0: item type integration is not allowed");
}

#[test]
fn helpers_find_the_event_and_items_by_type() {
    let envelope =
        parse(b"{}\n{\"type\":\"attachment\"}\na\n{\"type\":\"transaction\"}\n{}\n{\"type\":\"attachment\"}\nb")
            .expect("valid");
    assert_eq!(envelope.event_item().map(|i| &i.ty), Some(&ItemType::Transaction));
    assert_eq!(envelope.items_of(&ItemType::Attachment).count(), 2);
    assert!(envelope.requires_event_id());
}
