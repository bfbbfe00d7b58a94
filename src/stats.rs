//! Processing statistics: issues created, comments added, failures and
//! ignored mail by reason, each for today, yesterday (UTC days) and in total
//! since the last reset, plus the current queue sizes. The numbers are
//! computed from the processing log by [`Store::statistics`]; this module
//! holds the types and the pure parts (reason keys, Prometheus text).
//!
//! [`Store::statistics`]: crate::store::Store::statistics

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::classify::IgnoreReason;

pub const DAY_MS: i64 = 86_400_000;

/// `kv` key: when the statistics were last reset (epoch ms).
pub const RESET_AT_KEY: &str = "stats.reset_at";
/// `kv` key: the last processing-log id before the reset; rows after it
/// count. Exact even when a mail is logged in the millisecond of the reset.
pub const RESET_LOG_ID_KEY: &str = "stats.reset_log_id";

/// Every key of [`Statistics::ignored_by_reason`], in a fixed order.
pub const REASON_KEYS: &[&str] = &[
    "auto_submitted",
    "auto_reply",
    "precedence",
    "delivery_report",
    "null_return_path",
    "own_address",
    "mailgate_loop",
    "no_sender",
    "duplicate",
    "mail_storm",
    "bounce",
    "automated",
    "rejected",
    "other",
];

/// One outcome counted per UTC day and since the last reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub today: i64,
    pub yesterday: i64,
    pub total: i64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.today += other.today;
        self.yesterday += other.yesterday;
        self.total += other.total;
    }
}

/// How often one file on the `inbound.blocked_sha256` list was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedCount {
    pub sha256: String,
    pub skipped: i64,
    /// When last skipped (epoch ms).
    pub last_skipped_at_ms: i64,
}

/// What `GET /api/stats` answers. Counts are since the last reset; the
/// queue sizes are the current state and are not affected by a reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Statistics {
    pub issues_created: Counts,
    pub comments_added: Counts,
    pub failures: Counts,
    /// Ignored and rejected mails since the last reset, by [`reason_key`].
    pub ignored_by_reason: BTreeMap<String, i64>,
    pub pending_inbound: i64,
    pub outbox_pending: i64,
    pub outbox_failed: i64,
    /// Block-listed files skipped, per digest, most skipped first. Counted
    /// since the first skip, not affected by a reset: the list is checked
    /// against them (a digest never skipped has no entry).
    pub blocked_attachments: Vec<BlockedCount>,
    /// RFC 3339 time of the last reset; `None` when never reset.
    pub reset_at: Option<String>,
}

/// Start of the UTC day holding `ms`.
pub fn day_start(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// The short key of an ignore reason.
pub fn ignore_key(reason: &IgnoreReason) -> &'static str {
    match reason {
        IgnoreReason::AutoSubmitted(_) => "auto_submitted",
        IgnoreReason::AutoReplyHeader => "auto_reply",
        IgnoreReason::Precedence(_) => "precedence",
        IgnoreReason::DeliveryReport => "delivery_report",
        IgnoreReason::NullReturnPath => "null_return_path",
        IgnoreReason::OwnAddress(_) => "own_address",
        IgnoreReason::MailgateLoop => "mailgate_loop",
        IgnoreReason::NoSender => "no_sender",
        IgnoreReason::Duplicate => "duplicate",
        IgnoreReason::MailStorm(_) => "mail_storm",
        // Auto-replies found by subject or Exchange headers count with the
        // X-Autoreply ones: the same kind of mail.
        IgnoreReason::AutoReply(_) => "auto_reply",
        IgnoreReason::Bounce(_) => "bounce",
        IgnoreReason::Automated(_) => "automated",
    }
}

/// Starts of the texts [`IgnoreReason`]'s `Display` writes (lower case).
const DETAIL_PREFIXES: &[(&str, &str)] = &[
    ("auto-submitted mail", "auto_submitted"),
    ("auto-reply", "auto_reply"),
    ("bulk mail (precedence", "precedence"),
    ("delivery report", "delivery_report"),
    ("null return path", "null_return_path"),
    ("sent from our own address", "own_address"),
    ("mail sent by mailgate itself", "mailgate_loop"),
    ("no usable from address", "no_sender"),
    ("duplicate message-id", "duplicate"),
    ("mail storm", "mail_storm"),
    ("bounce (", "bounce"),
    ("automated mail", "automated"),
];

/// The reason key of a logged ignored or rejected (by the sender policy)
/// mail, from the log row's detail text.
pub fn reason_key(rejected: bool, detail: Option<&str>) -> &'static str {
    if rejected {
        return "rejected";
    }
    let detail = detail.unwrap_or("").trim().to_ascii_lowercase();
    DETAIL_PREFIXES.iter().find(|(prefix, _)| detail.starts_with(prefix)).map_or("other", |(_, key)| key)
}

/// A label value in the exposition format: `\`, `"` and newlines escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Builds exposition text: one HELP and TYPE header per metric family.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: i64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
            let _ = write!(self.0, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, value: i64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// The statistics in the Prometheus text exposition format 0.0.4. Counters
/// count since the last reset (a reset shows as a counter reset).
/// `token_days_left` is given when a workaround token is set.
pub fn prometheus_text(stats: &Statistics, token_days_left: Option<i64>, reset_at_ms: Option<i64>) -> String {
    let mut out = Exposition(String::new());
    out.single(
        "mailgate_issues_created_total",
        "counter",
        "Jira issues created from mail since the last statistics reset.",
        stats.issues_created.total,
    );
    out.single(
        "mailgate_comments_added_total",
        "counter",
        "Jira comments added from mail since the last statistics reset.",
        stats.comments_added.total,
    );
    out.single(
        "mailgate_failures_total",
        "counter",
        "Mails that failed for good since the last statistics reset.",
        stats.failures.total,
    );
    out.family(
        "mailgate_ignored_total",
        "counter",
        "Mails ignored or rejected since the last statistics reset, by reason.",
    );
    let mut keys: Vec<&str> = REASON_KEYS.to_vec();
    keys.extend(stats.ignored_by_reason.keys().map(String::as_str).filter(|k| !REASON_KEYS.contains(k)));
    for key in keys {
        let n = stats.ignored_by_reason.get(key).copied().unwrap_or(0);
        out.sample("mailgate_ignored_total", &[("reason", key)], n);
    }
    out.single("mailgate_inbound_pending", "gauge", "Stored mails not yet processed.", stats.pending_inbound);
    out.single("mailgate_outbox_pending", "gauge", "Notification mails waiting to be sent.", stats.outbox_pending);
    out.single("mailgate_outbox_failed", "gauge", "Notification mails given up on.", stats.outbox_failed);
    if !stats.blocked_attachments.is_empty() {
        out.family(
            "mailgate_blocked_attachments_total",
            "counter",
            "Files left out because their SHA-256 is on inbound.blocked_sha256, by digest (not reset).",
        );
        for b in &stats.blocked_attachments {
            out.sample("mailgate_blocked_attachments_total", &[("sha256", &b.sha256)], b.skipped);
        }
    }
    if let Some(days) = token_days_left {
        out.single("mailgate_token_days_left", "gauge", "Days until the workaround token expires.", days);
    }
    if let Some(ms) = reset_at_ms {
        out.single(
            "mailgate_stats_reset_timestamp_seconds",
            "gauge",
            "When the statistics were last reset (Unix time).",
            ms.div_euclid(1000),
        );
    }
    out.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_reason() -> Vec<IgnoreReason> {
        vec![
            IgnoreReason::AutoSubmitted("auto-replied".into()),
            IgnoreReason::AutoReplyHeader,
            IgnoreReason::Precedence("bulk".into()),
            IgnoreReason::DeliveryReport,
            IgnoreReason::NullReturnPath,
            IgnoreReason::OwnAddress("help@example.com".into()),
            IgnoreReason::MailgateLoop,
            IgnoreReason::NoSender,
            IgnoreReason::Duplicate,
            IgnoreReason::MailStorm("x@example.com".into()),
            IgnoreReason::Bounce(crate::classify::BounceSign::FailedRecipients),
            IgnoreReason::Automated(crate::classify::AutomatedSign::JiraNotification),
        ]
    }

    #[test]
    fn stats_every_ignore_reason_text_maps_to_its_own_key() {
        let mut seen = Vec::new();
        for reason in every_reason() {
            let key = reason_key(false, Some(&reason.to_string()));
            assert_eq!(key, ignore_key(&reason), "{reason}");
            assert!(REASON_KEYS.contains(&key));
            seen.push(key);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), every_reason().len(), "keys are distinct");
        let subject = IgnoreReason::AutoReply(crate::classify::AutoReplySign::Subject("out of office".into()));
        assert_eq!(reason_key(false, Some(&subject.to_string())), "auto_reply");
        assert_eq!(ignore_key(&subject), "auto_reply");
    }

    #[test]
    fn stats_rejections_and_unknown_texts_have_their_keys() {
        assert_eq!(reason_key(true, Some("sender policy is reject")), "rejected");
        assert_eq!(reason_key(false, Some("something new")), "other");
        assert_eq!(reason_key(false, None), "other");
        assert_eq!(reason_key(false, Some("Duplicate Message-ID")), "duplicate");
    }

    #[test]
    fn stats_days_are_utc_days() {
        assert_eq!(day_start(DAY_MS * 3 + 5), DAY_MS * 3);
        assert_eq!(day_start(DAY_MS * 3), DAY_MS * 3);
        assert_eq!(day_start(DAY_MS * 3 - 1), DAY_MS * 2);
        assert_eq!(day_start(-1), -DAY_MS);
    }

    #[test]
    fn stats_label_values_are_escaped() {
        assert_eq!(escape_label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label("a\nb"), "a\\nb");
    }

    #[test]
    fn stats_exposition_has_help_and_type_for_every_sample() {
        let mut stats = Statistics::default();
        stats.issues_created.total = 3;
        stats.ignored_by_reason.insert("duplicate".into(), 2);
        stats.ignored_by_reason.insert("we\"ird".into(), 1);
        stats.blocked_attachments.push(BlockedCount { sha256: "ab12".into(), skipped: 4, last_skipped_at_ms: 1 });
        let text = prometheus_text(&stats, Some(12), Some(1_700_000_000_123));

        assert!(text.contains("mailgate_issues_created_total 3\n"), "{text}");
        assert!(text.contains("mailgate_ignored_total{reason=\"duplicate\"} 2\n"), "{text}");
        assert!(text.contains("mailgate_ignored_total{reason=\"auto_reply\"} 0\n"), "{text}");
        assert!(text.contains("mailgate_ignored_total{reason=\"we\\\"ird\"} 1\n"), "{text}");
        assert!(text.contains("mailgate_token_days_left 12\n"), "{text}");
        assert!(text.contains("mailgate_blocked_attachments_total{sha256=\"ab12\"} 4\n"), "{text}");
        assert!(text.contains("mailgate_stats_reset_timestamp_seconds 1700000000\n"), "{text}");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        assert!(!prometheus_text(&stats, None, None).contains("mailgate_token_days_left"));
    }
}
