//! The bench's mail set: deterministic (xorshift64) for the same N, 75 %
//! new mails (10 % of them with an attachment), 20 % replies, 5 %
//! auto-replies, from a fixed set of known senders.

use crate::SENDERS;

/// xorshift64: the same mail set for the same N every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    New,
    Reply,
    AutoReply,
}

pub struct Workload {
    pub mails: Vec<(Kind, Vec<u8>)>,
    pub new: usize,
    pub replies: usize,
    pub with_attachment: usize,
    pub bytes: usize,
}

const WORDS: &[&str] = &[
    "printer",
    "VPN",
    "login",
    "password",
    "invoice",
    "laptop",
    "screen",
    "network",
    "cannot",
    "error",
    "please",
    "help",
    "urgent",
    "since",
    "yesterday",
    "office",
    "meeting",
    "access",
    "folder",
    "shared",
    "the",
    "and",
    "is",
];

pub fn text(rng: &mut Rng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 16);
    let mut line = 0;
    while out.len() < bytes {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        out.push_str(w);
        line += w.len() + 1;
        if line > 70 {
            out.push_str("\r\n");
            line = 0;
        } else {
            out.push(' ');
        }
    }
    out
}

pub fn base64_lines(data: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(b64.len() + b64.len() / 76 * 2 + 2);
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push_str("\r\n");
    }
    out
}

pub fn sender(n: usize) -> String {
    format!("customer{n}@cust.test")
}

pub fn new_mail(rng: &mut Rng, tag: &str, from: &str, attachment: Option<usize>) -> Vec<u8> {
    let size = 300 + rng.below(20_000) as usize;
    let body = text(rng, size);
    let head = format!(
        "From: Customer <{from}>\r\nTo: help@corp.test\r\nSubject: {tag} problem with the printer\r\nMessage-ID: <{tag}@cust.test>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    );
    match attachment {
        None => format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").into_bytes(),
        Some(len) => {
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            format!(
                "{head}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"log-{tag}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}--b1--\r\n",
                base64_lines(&data)
            )
            .into_bytes()
        }
    }
}

pub fn workload(n: usize) -> Workload {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut w = Workload { mails: Vec::with_capacity(n), new: 0, replies: 0, with_attachment: 0, bytes: 0 };
    let mut originals: Vec<(String, String)> = Vec::new(); // (message id, sender)
    for i in 0..n {
        let roll = rng.below(100);
        let (kind, raw) = if roll < 5 {
            let from = sender(rng.below(SENDERS as u64) as usize);
            let raw = format!(
                "From: {from}\r\nTo: help@corp.test\r\nSubject: Out of office\r\nMessage-ID: <auto{i}@cust.test>\r\nAuto-Submitted: auto-replied\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nI am away.\r\n"
            );
            (Kind::AutoReply, raw.into_bytes())
        } else if roll < 25 && !originals.is_empty() {
            let (mid, from) = originals[rng.below(originals.len() as u64) as usize].clone();
            let len = 200 + rng.below(3_000) as usize;
            let body = text(&mut rng, len);
            let raw = format!(
                "From: {from}\r\nTo: help@corp.test\r\nSubject: Re: {mid} problem with the printer\r\nMessage-ID: <reply{i}@cust.test>\r\nIn-Reply-To: <{mid}@cust.test>\r\nReferences: <{mid}@cust.test>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            );
            (Kind::Reply, raw.into_bytes())
        } else {
            let tag = format!("new{i}");
            let from = sender(rng.below(SENDERS as u64) as usize);
            let attachment = (rng.below(10) == 0).then(|| 20_000 + rng.below(180_000) as usize);
            w.with_attachment += usize::from(attachment.is_some());
            let raw = new_mail(&mut rng, &tag, &from, attachment);
            originals.push((tag, from));
            (Kind::New, raw)
        };
        w.new += usize::from(kind == Kind::New);
        w.replies += usize::from(kind == Kind::Reply);
        w.bytes += raw.len();
        w.mails.push((kind, raw));
    }
    w
}
