//! Notification mail text: subject, plain text and HTML per event kind,
//! minijinja templates with built-in defaults that a folder can override
//! (`<kind>.subject.j2`, `<kind>.txt.j2`, `<kind>.html.j2`).

use std::path::Path;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::event::{Event, EventKind};

const KINDS: [EventKind; 3] = [EventKind::IssueCreated, EventKind::IssueUpdated, EventKind::CommentCreated];

const SUBJECT_CREATED: &str = "[{{ event.issue_key }}] {{ event.summary }}";
const SUBJECT_REPLY: &str = "Re: [{{ event.issue_key }}] {{ event.summary }}";

const TEXT_CREATED: &str = "{% if reply_marker %}{{ reply_marker }}\n\n{% endif %}\
{% if event.origin == 'mail' %}We received your request and filed it as {{ event.issue_key }}.\n{% else %}\
A new issue was created: {{ event.issue_key }}.\n{% endif %}\n\
Summary: {{ event.summary }}\n{% if event.status %}Status:  {{ event.status }}\n{% endif %}\n\
Reply to this mail to add a comment.\n{{ issue_url }}\n";

const TEXT_UPDATED: &str = "{% if reply_marker %}{{ reply_marker }}\n\n{% endif %}\
{{ event.issue_key }} was updated.\n\n\
{% for c in event.changed %}{{ c.field }}: {{ c.from or '-' }} -> {{ c.to or '-' }}\n{% endfor %}\
{% if event.status %}Status: {{ event.status }}\n{% endif %}{{ files }}\n{{ issue_url }}\n";

const TEXT_COMMENT: &str = "{% if reply_marker %}{{ reply_marker }}\n\n{% endif %}\
{% if event.comment %}{{ (event.comment.author.display_name if event.comment.author else none) or 'Someone' }} commented on {{ event.issue_key }}:\n\n\
{{ event.comment.body }}\n{% endif %}{{ files }}\n\
Reply to this mail to add a comment.\n{{ issue_url }}\n";

const HTML: &str = "<html><body>\
{% if reply_marker %}<p style=\"color:#888\">{{ reply_marker }}</p>{% endif %}\
<p><a href=\"{{ issue_url }}\">{{ event.issue_key }}</a>: {{ event.summary }}</p>\
{% if event.comment %}<blockquote>{{ event.comment.body }}</blockquote>{% endif %}\
{% for c in event.changed %}<p>{{ c.field }}: {{ c.from or '-' }} &rarr; {{ c.to or '-' }}</p>{% endfor %}\
{% for f in event.files %}<p>{% if f.attached %}Attached: {{ f.filename }}{% else %}<a href=\"{{ f.url }}\">{{ f.filename }}</a> (too large to attach){% endif %}</p>{% endfor %}\
</body></html>";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {source}")]
    Invalid { name: String, source: minijinja::Error },
    #[error("cannot read template {path}: {source}")]
    Read { path: String, source: std::io::Error },
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
}

#[derive(Serialize)]
struct Context<'a> {
    event: &'a Event,
    issue_url: String,
    reply_marker: Option<&'a str>,
    /// The event's files as text lines (attached, or linked when too large).
    files: String,
}

/// The lines that name the event's files.
fn file_lines(event: &Event) -> String {
    let mut out = String::new();
    for f in &event.files {
        match (&f.url, f.attached) {
            (_, true) => out.push_str(&format!("\nAttached: {}", f.filename)),
            (Some(url), false) => out.push_str(&format!("\nToo large to attach: {} {url}", f.filename)),
            (None, false) => out.push_str(&format!("\nFile added: {}", f.filename)),
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn defaults(kind: EventKind) -> (&'static str, &'static str) {
    match kind {
        EventKind::IssueCreated => (SUBJECT_CREATED, TEXT_CREATED),
        EventKind::IssueUpdated => (SUBJECT_REPLY, TEXT_UPDATED),
        EventKind::CommentCreated => (SUBJECT_REPLY, TEXT_COMMENT),
    }
}

impl Templates {
    /// Built-in templates, overridden by files in `dir` when given.
    pub fn load(dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
        for kind in KINDS {
            let (subject, text) = defaults(kind);
            for (suffix, default) in [("subject", subject), ("txt", text), ("html", HTML)] {
                let name = format!("{}.{suffix}", kind.as_str());
                let source = match dir.map(|d| d.join(format!("{name}.j2"))).filter(|p| p.exists()) {
                    Some(path) => std::fs::read_to_string(&path)
                        .map_err(|source| TemplateError::Read { path: path.display().to_string(), source })?,
                    None => default.to_string(),
                };
                env.add_template_owned(name.clone(), source)
                    .map_err(|source| TemplateError::Invalid { name, source })?;
            }
        }
        Ok(Self { env })
    }

    pub fn render(
        &self,
        event: &Event,
        jira_base: &str,
        reply_marker: Option<&str>,
    ) -> Result<Rendered, TemplateError> {
        let ctx = Context {
            event,
            issue_url: format!("{}/browse/{}", jira_base.trim_end_matches('/'), event.issue_key),
            reply_marker,
            files: file_lines(event),
        };
        let render = |suffix: &str| {
            let name = format!("{}.{suffix}", event.kind.as_str());
            self.env
                .get_template(&name)
                .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
                .map_err(|source| TemplateError::Invalid { name, source })
        };
        let subject: String = render("subject")?.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        Ok(Rendered { subject: subject.trim().to_string(), text: render("txt")?, html: render("html")? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::event::{CommentInfo, Origin};

    fn event(kind: EventKind) -> Event {
        Event {
            id: "x".into(),
            kind,
            origin: Origin::Webhook,
            issue_key: "HELP-7".into(),
            project: "HELP".into(),
            summary: "Printer <b>on fire</b>\r\nBcc: evil@x.test".into(),
            status: Some("Open".into()),
            reporter: None,
            assignee: None,
            watchers: vec![],
            comment: Some(CommentInfo {
                id: "1".into(),
                author: None,
                body: "<script>x</script>".into(),
                visibility: Default::default(),
            }),
            changed: vec![],
            mail_sender: None,
            customers: Vec::new(),
            files: Vec::new(),
        }
    }

    #[test]
    fn subjects_carry_the_key_on_one_line() {
        let t = Templates::load(None).expect("templates");
        let r = t
            .render(&event(EventKind::CommentCreated), "https://jira.test/", Some("## reply above ##"))
            .expect("render");
        assert!(r.subject.starts_with("Re: [HELP-7] Printer"), "{}", r.subject);
        assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
        assert!(r.text.starts_with("## reply above ##"));
        assert!(r.text.contains("https://jira.test/browse/HELP-7"));
        assert!(r.html.contains("&lt;script&gt;"), "HTML is escaped: {}", r.html);
    }
}
