//! The OAuth 2.0 scopes Jira Cloud demands of a 3LO token per operation, for
//! the routes the fake serves: the "Current" (classic) and "Beta"
//! (granular) sets of each operation's `x-atlassian-oauth2-scopes` in
//! Atlassian's Cloud platform v3 and JSM specs (`../shared/jira-openapi/`;
//! the jira_schema test holds this table to them). A token passes with every
//! scope of either set. An operation with neither (`POST /rest/api/3/user`:
//! basic auth only) cannot be called with a 3LO token at all. Cloud v2 paths
//! take their v3 twin's scopes.

/// One operation's scopes.
#[derive(Debug, Clone, Copy)]
pub struct ScopeRule {
    pub method: &'static str,
    /// The spec's path template (`{…}` matches one segment).
    pub path: &'static str,
    pub classic: &'static [&'static str],
    pub granular: &'static [&'static str],
}

impl ScopeRule {
    /// Whether a token with `granted` scopes may call the operation.
    pub fn allows(&self, granted: &[String]) -> bool {
        let has_all = |set: &[&str]| !set.is_empty() && set.iter().all(|s| granted.iter().any(|g| g == s));
        has_all(self.classic) || has_all(self.granular)
    }
}

/// Every rule, in the spec's words.
pub static SCOPE_RULES: &[ScopeRule] = &[
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/myself",
        classic: &["read:jira-user"],
        granular: &["read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issue",
        classic: &["write:jira-work"],
        granular: &[
            "write:issue:jira",
            "write:comment:jira",
            "write:comment.property:jira",
            "write:attachment:jira",
            "read:issue:jira",
        ],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issue/bulkfetch",
        classic: &["read:jira-work"],
        granular: &[
            "read:issue-meta:jira",
            "read:issue-security-level:jira",
            "read:issue.vote:jira",
            "read:issue.changelog:jira",
            "read:avatar:jira",
            "read:issue:jira",
            "read:status:jira",
            "read:user:jira",
            "read:field-configuration:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/issue/{issueIdOrKey}",
        classic: &["read:jira-work"],
        granular: &[
            "read:issue-meta:jira",
            "read:issue-security-level:jira",
            "read:issue.vote:jira",
            "read:issue.changelog:jira",
            "read:avatar:jira",
            "read:issue:jira",
            "read:status:jira",
            "read:user:jira",
            "read:field-configuration:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
        classic: &["read:jira-work"],
        granular: &["read:issue.property:jira"],
    },
    ScopeRule {
        method: "PUT",
        path: "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
        classic: &["write:jira-work"],
        granular: &["write:issue.property:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/comment/{commentId}/properties/{propertyKey}",
        classic: &["read:jira-work"],
        granular: &["read:comment.property:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issue/{issueIdOrKey}/comment",
        classic: &["write:jira-work"],
        granular: &[
            "read:comment:jira",
            "read:comment.property:jira",
            "read:group:jira",
            "read:project:jira",
            "read:project-role:jira",
            "read:user:jira",
            "write:comment:jira",
            "read:avatar:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/issue/{issueIdOrKey}/comment",
        classic: &["read:jira-work"],
        granular: &[
            "read:comment:jira",
            "read:comment.property:jira",
            "read:group:jira",
            "read:project:jira",
            "read:project-role:jira",
            "read:user:jira",
            "read:avatar:jira",
        ],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issue/{issueIdOrKey}/attachments",
        classic: &["write:jira-work"],
        granular: &["read:user:jira", "write:attachment:jira", "read:attachment:jira", "read:avatar:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/issue/{issueIdOrKey}/transitions",
        classic: &["read:jira-work"],
        granular: &["read:issue.transition:jira", "read:status:jira", "read:field-configuration:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issue/{issueIdOrKey}/transitions",
        classic: &["write:jira-work"],
        granular: &["write:issue:jira", "write:issue.property:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issueLink",
        classic: &["write:jira-work"],
        granular: &["write:comment:jira", "write:issue:jira", "write:issue-link:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/attachment/content/{id}",
        classic: &["read:jira-work"],
        granular: &["read:attachment:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/attachment/{id}",
        classic: &["read:jira-work"],
        granular: &[
            "read:attachment:jira",
            "read:user:jira",
            "read:application-role:jira",
            "read:avatar:jira",
            "read:group:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/user/permission/search",
        classic: &["read:jira-user"],
        granular: &[
            "read:issue:jira",
            "read:project:jira",
            "read:user:jira",
            "read:application-role:jira",
            "read:avatar:jira",
            "read:group:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/search/jql",
        classic: &["read:jira-work"],
        granular: &[
            "read:issue-details:jira",
            "read:audit-log:jira",
            "read:avatar:jira",
            "read:field-configuration:jira",
            "read:issue-meta:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/search",
        classic: &["read:jira-work"],
        granular: &[
            "read:issue-details:jira",
            "read:audit-log:jira",
            "read:avatar:jira",
            "read:field-configuration:jira",
            "read:issue-meta:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/user/search",
        classic: &["read:jira-user"],
        granular: &[
            "read:user:jira",
            "read:user.property:jira",
            "read:application-role:jira",
            "read:avatar:jira",
            "read:group:jira",
        ],
    },
    ScopeRule { method: "POST", path: "/rest/api/3/user", classic: &[], granular: &[] },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/group/user",
        classic: &["manage:jira-configuration"],
        granular: &["write:group:jira", "read:avatar:jira", "read:group:jira", "read:user:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/group/member",
        classic: &["manage:jira-configuration"],
        granular: &["read:group:jira", "read:user:jira", "read:avatar:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/mypermissions",
        classic: &["read:jira-work"],
        granular: &["read:permission:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/api/3/issue/{issueIdOrKey}/watchers",
        classic: &["write:jira-work"],
        granular: &["write:issue.watcher:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/issue/{issueIdOrKey}/watchers",
        classic: &["read:jira-work"],
        granular: &["read:issue.watcher:jira", "read:user:jira", "read:avatar:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/project/{projectIdOrKey}/role",
        classic: &["read:jira-work"],
        granular: &["read:project-role:jira"],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/project/{projectIdOrKey}/role/{id}",
        classic: &["read:jira-work"],
        granular: &[
            "read:user:jira",
            "read:group:jira",
            "read:project-role:jira",
            "read:project:jira",
            "read:avatar:jira",
            "read:project-category:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/api/3/user",
        classic: &["read:jira-user"],
        granular: &["read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/servicedeskapi/customer",
        classic: &["manage:servicedesk-customer"],
        granular: &[
            "read:customer:jira-service-management",
            "write:customer:jira-service-management",
            "read:user:jira",
        ],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/servicedeskapi/servicedesk/{serviceDeskId}/customer",
        classic: &["manage:servicedesk-customer"],
        granular: &[
            "read:servicedesk.customer:jira-service-management",
            "write:servicedesk.customer:jira-service-management",
        ],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/servicedeskapi/request",
        classic: &["write:servicedesk-request"],
        granular: &["read:request:jira-service-management", "write:request:jira-service-management", "read:user:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/servicedeskapi/request/{issueIdOrKey}/comment",
        classic: &["write:servicedesk-request"],
        granular: &[
            "read:request.comment:jira-service-management",
            "write:request.comment:jira-service-management",
            "read:user:jira",
        ],
    },
    ScopeRule {
        method: "GET",
        path: "/rest/servicedeskapi/request/{issueIdOrKey}/comment/{commentId}",
        classic: &["read:servicedesk-request"],
        granular: &["read:request.comment:jira-service-management", "read:user:jira"],
    },
    ScopeRule {
        method: "POST",
        path: "/rest/servicedeskapi/request/{issueIdOrKey}/participant",
        classic: &["write:servicedesk-request"],
        granular: &[
            "read:request.participant:jira-service-management",
            "write:request.participant:jira-service-management",
            "read:user:jira",
        ],
    },
];

/// The rule for `method path` (a path under `/rest/`, v2 read as v3), the
/// one with the most literal segments when templates overlap.
pub fn rule_for(method: &str, path: &str) -> Option<&'static ScopeRule> {
    let path = path.trim_end_matches('/');
    let v3 = path.strip_prefix("/rest/api/2/").map(|rest| format!("/rest/api/3/{rest}"));
    let path = v3.as_deref().unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    SCOPE_RULES
        .iter()
        .filter(|r| r.method == method)
        .filter_map(|r| {
            let tmpl: Vec<&str> = r.path.split('/').collect();
            if tmpl.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (t, s) in tmpl.iter().zip(&segs) {
                if t.starts_with('{') {
                    continue;
                }
                if t != s {
                    return None;
                }
                literal += 1;
            }
            Some((literal, r))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, r)| r)
}
