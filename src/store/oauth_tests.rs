use super::*;

/// SQLite, and PostgreSQL when a server answers (the database is dropped
/// with the returned guard).
async fn stores() -> (Vec<Store>, Option<mailgate_testkit::TestDb>) {
    let mut out = vec![Store::connect("sqlite::memory:").await.expect("sqlite")];
    let pg = mailgate_testkit::TestDb::postgres().await;
    if let Some(db) = &pg {
        out.push(Store::connect(&db.url).await.expect("postgres"));
    }
    (out, pg)
}

fn login<'a>(grant: &'a str, blob: &[u8]) -> NewLogin<'a> {
    NewLogin {
        grant,
        refresh_token: blob.to_vec(),
        key_id: "k1",
        cloud_id: Some("cloud-1"),
        access_expires_at: Some(5_000),
        refresh_expires_at: Some(90_000),
    }
}

#[tokio::test]
async fn a_login_is_stored_and_a_new_login_raises_the_version_and_clears_a_revocation() {
    let (stores, _pg) = stores().await;
    for s in stores {
        a_login_is_stored_and_a_new_login_raises_the_version_and_clears_a_revocation_on(s).await;
    }
}

async fn a_login_is_stored_and_a_new_login_raises_the_version_and_clears_a_revocation_on(s: Store) {
    assert!(s.oauth_grant("jira").await.expect("read").is_none());
    s.put_oauth_login(&login("jira", b"ct-1"), 1_000).await.expect("login");
    let g = s.oauth_grant("jira").await.expect("read").expect("row");
    assert_eq!((g.state, g.version, g.cloud_id.as_deref()), (GrantState::Active, 1, Some("cloud-1")));
    assert_eq!(g.refresh_token.as_deref(), Some(&b"ct-1"[..]));
    assert!(s.mark_oauth_revoked("jira", 1, "invalid_grant", 2_000).await.expect("revoke"));
    assert!(!s.mark_oauth_revoked("jira", 1, "invalid_grant", 3_000).await.expect("again"), "once");
    let g = s.oauth_grant("jira").await.expect("read").expect("row");
    assert_eq!(
        (g.state, g.revoked_at, g.last_error.as_deref()),
        (GrantState::Revoked, Some(2_000), Some("invalid_grant"))
    );
    s.put_oauth_login(&login("jira", b"ct-2"), 4_000).await.expect("login again");
    let g = s.oauth_grant("jira").await.expect("read").expect("row");
    assert_eq!((g.state, g.version, g.revoked_at, g.last_error), (GrantState::Active, 2, None, None));
}

#[tokio::test]
async fn a_rotation_is_written_only_over_the_version_it_was_refreshed_from() {
    let (stores, _pg) = stores().await;
    for s in stores {
        a_rotation_is_written_only_over_the_version_it_was_refreshed_from_on(s).await;
    }
}

async fn a_rotation_is_written_only_over_the_version_it_was_refreshed_from_on(s: Store) {
    s.put_oauth_login(&login("smtp", b"ct-1"), 1_000).await.expect("login");
    let r = |from, blob: &'static [u8]| Refreshed {
        grant: "smtp",
        from_version: from,
        rotated: Some((blob.to_vec(), "k1")),
        access_expires_at: 9_000,
        refresh_expires_at: None,
    };
    assert!(s.put_oauth_refresh(&r(1, b"ct-2"), 2_000).await.expect("rotate"));
    assert!(!s.put_oauth_refresh(&r(1, b"ct-stale"), 3_000).await.expect("stale"), "an older read loses");
    let g = s.oauth_grant("smtp").await.expect("read").expect("row");
    assert_eq!((g.version, g.refresh_token.as_deref()), (2, Some(&b"ct-2"[..])));
    assert_eq!((g.access_expires_at, g.refresh_expires_at), (Some(9_000), Some(90_000)), "unknown expiry kept");
    // A revocation read at an older version does not hit the newer grant.
    assert!(!s.mark_oauth_revoked("smtp", 1, "invalid_grant", 4_000).await.expect("stale revoke"));
    assert_eq!(s.oauth_grant("smtp").await.expect("read").expect("row").state, GrantState::Active);
}

#[tokio::test]
async fn grants_without_refresh_tokens_note_access_and_can_be_revoked_and_reset_by_a_secret() {
    let (stores, _pg) = stores().await;
    for s in stores {
        grants_without_refresh_tokens_note_access_and_can_be_revoked_and_reset_by_a_secret_on(s).await;
    }
}

async fn grants_without_refresh_tokens_note_access_and_can_be_revoked_and_reset_by_a_secret_on(s: Store) {
    assert!(s.mark_oauth_revoked("mailbox:a", 0, "invalid_client", 1_000).await.expect("revoke new row"));
    s.put_oauth_secret("mailbox:a", b"sec".to_vec(), "k1", 2_000).await.expect("secret");
    let g = s.oauth_grant("mailbox:a").await.expect("read").expect("row");
    assert_eq!((g.state, g.version, g.secret_key_id.as_deref()), (GrantState::Active, 1, Some("k1")));
    s.note_oauth_error("mailbox:a", "HTTP 503", 3_000).await.expect("error");
    s.note_oauth_access("mailbox:a", 7_000, 4_000).await.expect("access");
    let g = s.oauth_grant("mailbox:a").await.expect("read").expect("row");
    assert_eq!((g.access_expires_at, g.last_error), (Some(7_000), None));
    s.rekey_oauth_grant("mailbox:a", None, Some((b"sec2".to_vec(), "k2")), 5_000).await.expect("rekey");
    let all = s.oauth_grants().await.expect("all");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].secret_key_id.as_deref(), Some("k2"));
    let dbg = format!("{:?}", all[0]);
    assert!(!dbg.contains("115, 101, 99") && dbg.contains("[encrypted]"), "{dbg}");
}
