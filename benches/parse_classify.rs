//! Parse + classify over the shared real-world corpora, beside mail-parser
//! alone on the same bytes: the ratio is what mailgate's own layer costs
//! (text extraction, HTML to text, address and Message-ID validation,
//! attachment copies, the ignore/reply/route decision).
//!
//! `cargo bench --bench parse_classify`

use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mail_parser::MessageParser;
use mailgate::classify;
use mailgate::config::Settings;

const CORPORA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora");

/// Every mail of the three corpora (`.eml`, `.msg`; expected parses and decoded parts left out).
fn corpus() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(CORPORA)];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                stack.push(path);
            } else if is_mail(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn is_mail(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("eml" | "msg"))
}

fn settings() -> Settings {
    let text = r#"
[database]
url = "sqlite::memory:"
[jira]
flavor = "cloud"
base_url = "http://127.0.0.1:9"
auth = { kind = "basic", user = "bot@example.test", secret = "x" }
[inbound]
own_addresses = ["help@corp.test"]
[[routing.rules]]
recipient = "sales@corp.test"
project = "SALES"
[routing]
default = { project = "HELP", issue_type = "Task" }
"#;
    match Settings::from_toml_with_env(text, Vec::new()) {
        Ok(s) => s,
        Err(e) => panic!("bench settings: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let mails = corpus();
    assert!(!mails.is_empty(), "no corpus at {CORPORA}: the shared corpora must sit beside the checkout");
    let bytes: usize = mails.iter().map(Vec::len).sum();
    eprintln!("corpus: {} mails, {} bytes", mails.len(), bytes);
    let settings = settings();
    let threads = HashMap::new();

    let mut group = c.benchmark_group("corpus");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("mail_parser_alone", |b| {
        b.iter(|| {
            for raw in &mails {
                black_box(MessageParser::default().parse(raw.as_slice()));
            }
        })
    });
    group.bench_function("mailgate_parse", |b| {
        b.iter(|| {
            for raw in &mails {
                let _ = black_box(mailgate::mime::parse(raw));
            }
        })
    });
    group.bench_function("mailgate_parse_classify", |b| {
        b.iter(|| {
            for raw in &mails {
                if let Ok(msg) = mailgate::mime::parse(raw) {
                    black_box(classify::decide(&msg, &settings.inbound.own_addresses, &settings.routing, &threads));
                }
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(8));
    targets = bench
}
criterion_main!(benches);
