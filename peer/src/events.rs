//! `events.jsonl`: what happened, one compact JSON object a line, flushed
//! line by line, so that a harness can wait for a line with `grep`.
//!
//! Every object has `"time"` (seconds since the Unix epoch, millisecond
//! resolution) and `"event"`; the other fields depend on the event (the
//! table in `tests/interop/README.md`: `ready`, `phase1_up`, `phase2_up`,
//! `phase2_down`, `phase1_down`, `error`, `stopped`, and this peer's own
//! `ted`, `warning`, `map_entry` and `notify`; for remote access
//! `xauth_requested`, `xauth_checked`, `xauth_completed`, `xauth_failed`,
//! `mode_cfg_received`, `mode_cfg_refused`, `address_assigned`,
//! `address_released`, `route_added`, `route_removed`, `tun_configured`
//! and `tun_deconfigured`, listed
//! with their fields in `peer/README.md`). No event carries a password or
//! a key.

use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Seconds since the Unix epoch, to the millisecond (0 before 1970).
pub fn unix_time(at: SystemTime) -> f64 {
    let d = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    // Milliseconds since 1970 fit an f64 exactly for the next 285,000 years.
    #[allow(clippy::cast_precision_loss)]
    let ms = d.as_millis() as f64;
    ms / 1000.0
}

/// Writes events as JSON lines.
#[derive(Debug)]
pub struct EventLog<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> EventLog<W> {
    /// A log writing to `out`.
    pub fn new(out: W) -> Self {
        Self { out, written: 0 }
    }

    /// Writes one event (`time` and `event` first, then `fields` in
    /// order) and flushes.
    ///
    /// # Errors
    /// The writer's.
    pub fn write(
        &mut self,
        at: SystemTime,
        event: &str,
        fields: impl IntoIterator<Item = (&'static str, Value)>,
    ) -> io::Result<()> {
        // Written by hand rather than through a `serde_json::Map`, whose
        // keys come out sorted: `time` and `event` first, then the fields
        // in the order given, as a reader would expect them.
        let mut line = String::with_capacity(128);
        line.push_str("{\"time\":");
        line.push_str(&Value::from(unix_time(at)).to_string());
        line.push_str(",\"event\":");
        line.push_str(&Value::from(event).to_string());
        for (k, v) in fields {
            line.push(',');
            line.push_str(&Value::from(k).to_string());
            line.push(':');
            line.push_str(&v.to_string());
        }
        line.push('}');
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        self.written = self.written.saturating_add(1);
        Ok(())
    }

    /// Lines written.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn compact_lines_the_harness_can_grep() {
        let mut log = EventLog::new(Vec::new());
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        log.write(
            t,
            "ready",
            [
                ("ike", Value::from("192.0.2.1:500")),
                ("tun", Value::from("ikp0")),
            ],
        )
        .unwrap();
        log.write(
            t,
            "phase2_up",
            [("pfs_group", Value::Null), ("lifetime_s", Value::from(60))],
        )
        .unwrap();
        let text = String::from_utf8(log.get_ref().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"time":1700000000.123,"event":"ready","ike":"192.0.2.1:500","tun":"ikp0"}"#,
                r#"{"time":1700000000.123,"event":"phase2_up","pfs_group":null,"lifetime_s":60}"#,
            ]
        );
        assert_eq!(log.written(), 2);
    }

    #[test]
    fn times_before_1970_are_zero() {
        assert!((unix_time(UNIX_EPOCH - Duration::from_secs(5)) - 0.0).abs() < f64::EPSILON);
    }
}
