//! `slaacctl --json monitor`: one compact JSON object per line and event,
//! with the schema's field names (`time` in microseconds since the epoch,
//! `ifIndex`, `ifName`, `event` for the kind, then the event's fields), and
//! `{"event":"lost","count":N}` where the daemon lost events.
//!
//! It must never add wall-clock times of its own: its output depends only on
//! the batch.

use serde::Serialize;

use crate::event::Batch;

/// What the daemon lost before a batch, as a line of its own.
#[derive(Serialize)]
struct Lost {
    event: &'static str,
    count: u64,
}

/// Formats one batch, a line per event (and one for lost events).
pub fn render(batch: &Batch) -> serde_json::Result<String> {
    let mut out = String::new();
    if batch.lost > 0 {
        out.push_str(&serde_json::to_string(&Lost {
            event: "lost",
            count: batch.lost,
        })?);
        out.push('\n');
    }
    for event in &batch.events {
        out.push_str(&serde_json::to_string(event)?);
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::event_text::tests::sample;

    #[test]
    fn golden_json_lines() {
        let expected = include_str!("../../tests/golden/monitor.jsonl");
        assert_eq!(render(&sample()).unwrap(), expected);
    }

    #[test]
    fn every_line_is_one_object() {
        let text = render(&sample()).unwrap();
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(value.is_object(), "{line}");
            assert!(value["event"].is_string(), "{line}");
        }
    }
}
