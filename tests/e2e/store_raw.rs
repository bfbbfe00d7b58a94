//! Big raw mails are stored in parts and come back byte for byte, through
//! a claim, a plain read and the dead-letter view, on SQLite and PostgreSQL.

use mailgate::store::NewInbound;
use mailgate_testkit::{TestApp, TestDb};

#[tokio::test]
async fn a_big_mail_is_stored_in_parts_and_read_back_whole() {
    for db in TestDb::all().await {
        let app = TestApp::builder().db(db).spawn().await;
        let store = app.store().await;
        // 3.5 MiB: four parts, the last one short; every byte value appears.
        let raw: Vec<u8> = (0..(3 * 1024 * 1024 + 512 * 1024)).map(|i: u32| (i % 251) as u8).collect();
        let small = b"Subject: small\r\n\r\nhi\r\n".to_vec();
        for (uid, bytes) in [(1, &raw), (2, &small)] {
            let new = NewInbound { mailbox: "m", uidvalidity: Some(1), uid: Some(uid), source: None, raw: bytes };
            store.insert_inbound(&new, 0).await.expect("insert").expect("new row");
        }
        let me = mailgate::queue::InstanceId::new(&mailgate::clock::SystemClock);
        let lease = || mailgate::queue::Lease { owner: &me, now_ms: 0, until_ms: 60_000 };
        let claimed = store.claim_next("m", lease()).await.expect("claim").expect("a row");
        assert_eq!(claimed.raw.len(), raw.len(), "{}", app.label());
        assert!(claimed.raw == raw, "{}: claimed bytes differ", app.label());
        let read = store.inbound(claimed.id).await.expect("read").expect("row");
        assert!(read.raw == raw, "{}: read bytes differ", app.label());
        let second = store.claim_next("m", lease()).await.expect("claim");
        let second = second.unwrap_or_else(|| panic!("{}: second row", app.label()));
        assert_eq!(second.raw, small, "{}: a small mail stays inline", app.label());
        // The same UID again is not stored twice (and gets no second set of parts).
        let again = NewInbound { mailbox: "m", uidvalidity: Some(1), uid: Some(1), source: None, raw: &raw };
        assert_eq!(store.insert_inbound(&again, 0).await.expect("insert"), None, "{}", app.label());
        assert!(store.inbound(claimed.id).await.expect("read").expect("row").raw == raw, "{}", app.label());
    }
}
