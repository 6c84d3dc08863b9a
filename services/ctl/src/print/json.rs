//! `slaacctl --json show interface`: the same data as the text layout, as one
//! pretty-printed JSON object `{"interfaces": [...]}` with the schema's field
//! names. Addresses are strings, ages and lifetimes are numbers of seconds
//! (4294967295 is infinite, as in the schema), absent values are `null`.
//!
//! It must never add wall-clock times: its output depends only on the reply.

use serde::Serialize;

use crate::report::InterfaceReport;

#[derive(Serialize)]
struct Reply<'a> {
    interfaces: &'a [InterfaceReport],
}

/// Formats the reports as JSON, with a final newline.
pub fn render(interfaces: &[InterfaceReport]) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(&Reply { interfaces })?;
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
        assert_eq!(render(&[]).unwrap(), "{\n  \"interfaces\": []\n}\n");
    }
}
