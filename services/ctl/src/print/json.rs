//! `slaacctl --json show interface`: the same data as the text layout, as one
//! pretty-printed JSON object `{"interfaces": [...], "absent": [...]}` with
//! the schema's field names. Addresses are strings, ages and lifetimes are
//! numbers of seconds (4294967295 is infinite, as in the schema), absent
//! values are `null`. `absent` holds the names of the managed interfaces that
//! do not exist now, so every object in `interfaces` has every field.
//!
//! It must never add wall-clock times: its output depends only on the reply.

use crate::report::ShowReply;

/// Formats the reply as JSON, with a final newline.
pub fn render(reply: &ShowReply) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(reply)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::text::tests::sample;

    #[test]
    fn golden_json() {
        let expected = include_str!("../../tests/golden/show_interface.json");
        assert_eq!(render(&sample()).unwrap(), expected);
    }

    #[test]
    fn no_interfaces() {
        let reply = ShowReply {
            interfaces: vec![],
            absent: vec![],
        };
        assert_eq!(
            render(&reply).unwrap(),
            "{\n  \"interfaces\": [],\n  \"absent\": []\n}\n"
        );
    }

    #[test]
    fn only_absent_interfaces() {
        let reply = ShowReply {
            interfaces: vec![],
            absent: vec!["usb0".into()],
        };
        let parsed: serde_json::Value = serde_json::from_str(&render(&reply).unwrap()).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({"interfaces": [], "absent": ["usb0"]})
        );
    }
}
