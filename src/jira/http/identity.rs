//! What the workaround user does: users, groups, customers, permissions, roles.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::paging::Progress;
use super::{HttpJira, json_body, user_from};
use crate::config::JiraFlavor;
use crate::domain::IssueKey;
use crate::jira::{IdentityApi, JiraApi, JiraError, JiraUser};

#[async_trait]
impl IdentityApi for HttpJira {
    async fn myself(&self) -> Result<JiraUser, JiraError> {
        JiraApi::myself(self).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_user_by_email(&self, email: &str) -> Result<Option<JiraUser>, JiraError> {
        let url = format!("{}/user/search", self.api());
        let param = match self.flavor {
            JiraFlavor::Cloud => "query",
            JiraFlavor::Datacenter => "username",
        };
        let page = 50usize;
        let mut progress = Progress::default();
        for n in 0..10usize {
            let q = [(param, email.to_string()), ("startAt", (n * page).to_string()), ("maxResults", page.to_string())];
            let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
            let users = v.as_array().cloned().unwrap_or_default();
            let advanced = progress.advanced(&(n * page).to_string(), users.iter().map(user_key));
            let found = users.iter().find(|u| {
                u.get("emailAddress").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(email))
                    && u.get("active").and_then(Value::as_bool).unwrap_or(true)
            });
            if let Some(u) = found {
                return Ok(Some(user_from(u)));
            }
            // Profile visibility can hide the email: search still matched it
            // (nothing else prefix-matches a whole address), but the answer
            // leaves it out. One such active account, and no other: that one.
            if n == 0 && users.len() == 1 && hidden_match(&users[0]) {
                let mut user = user_from(&users[0]);
                user.email = Some(email.to_string());
                return Ok(Some(user));
            }
            if users.len() < page || !advanced {
                break;
            }
        }
        Ok(None)
    }

    #[tracing::instrument(skip_all)]
    async fn create_user(&self, email: &str, display_name: &str) -> Result<JiraUser, JiraError> {
        let url = format!("{}/user", self.api());
        let body = match self.flavor {
            JiraFlavor::Cloud => json!({"emailAddress": email, "products": []}),
            JiraFlavor::Datacenter => json!({"name": email, "emailAddress": email, "displayName": display_name}),
        };
        let v = json_body(self.send(|| self.request(Method::POST, &url).json(&body), false).await?).await?;
        // 201 also answers an existing account with Jira access, whose
        // email may be hidden: the pair learned from the mail is kept.
        let mut user = user_from(&v);
        user.email.get_or_insert_with(|| email.to_string());
        Ok(user)
    }

    #[tracing::instrument(skip_all, fields(group))]
    async fn add_user_to_group(&self, user: &JiraUser, group: &str) -> Result<(), JiraError> {
        let url = format!("{}/group/user", self.api());
        let body = match self.flavor {
            JiraFlavor::Cloud => json!({"accountId": user.account_id}),
            JiraFlavor::Datacenter => json!({"name": user.name}),
        };
        let q = [("groupname", group)];
        match self.send(|| self.request(Method::POST, &url).query(&q).json(&body), true).await {
            Ok(_) => Ok(()),
            // Already a member: the wanted state holds.
            Err(JiraError::Rejected { status: 400, message }) if message.to_lowercase().contains("already") => Ok(()),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn create_customer(&self, email: &str, display_name: &str) -> Result<JiraUser, JiraError> {
        let url = format!("{}/customer", self.jsm());
        let body = match self.flavor {
            JiraFlavor::Cloud => json!({"email": email, "displayName": display_name}),
            JiraFlavor::Datacenter => json!({"email": email, "fullName": display_name}),
        };
        let q = [("strictConflictStatusCode", "true")];
        match self.send(|| self.request(Method::POST, &url).query(&q).json(&body), false).await {
            Ok(resp) => Ok(user_from(&json_body(resp).await?)),
            Err(JiraError::Rejected { status: 409, .. }) => self
                .find_user_by_email(email)
                .await?
                .ok_or_else(|| JiraError::Decode(format!("customer {email} exists but cannot be found"))),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(service_desk))]
    async fn add_customer_to_service_desk(&self, service_desk: &str, user: &JiraUser) -> Result<(), JiraError> {
        let url = format!("{}/servicedesk/{}/customer", self.jsm(), service_desk);
        let id = user.id().unwrap_or_default().to_string();
        let body = self.user_ids_body("accountIds", &[id]);
        self.send(|| self.request(Method::POST, &url).json(&body), true).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn my_permissions(
        &self,
        project: Option<&str>,
        permissions: &[&str],
    ) -> Result<Vec<(String, bool)>, JiraError> {
        let url = format!("{}/mypermissions", self.api());
        let mut q = vec![("permissions", permissions.join(","))];
        if let Some(p) = project {
            q.push(("projectKey", p.to_string()));
        }
        let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
        Ok(permissions
            .iter()
            .map(|p| {
                let have = v["permissions"][*p]["havePermission"].as_bool().unwrap_or(false);
                (p.to_string(), have)
            })
            .collect())
    }

    #[tracing::instrument(skip_all, fields(project, role))]
    async fn role_actors(&self, project: &str, role: &str) -> Result<(Vec<String>, Vec<String>), JiraError> {
        let url = format!("{}/project/{}/role", self.api(), project);
        let roles = json_body(self.send(|| self.request(Method::GET, &url), true).await?).await?;
        let Some(role_url) = roles
            .as_object()
            .and_then(|m| m.iter().find(|(name, _)| name.eq_ignore_ascii_case(role)))
            .and_then(|(_, u)| u.as_str())
            .map(String::from)
        else {
            return Err(JiraError::NotFound(format!("no role {role:?} in project {project}")));
        };
        let id = role_url.rsplit('/').next().unwrap_or_default().to_string();
        let url = format!("{}/project/{}/role/{}", self.api(), project, id);
        let v = json_body(self.send(|| self.request(Method::GET, &url), true).await?).await?;
        let mut emails = Vec::new();
        let mut groups = Vec::new();
        for actor in v.get("actors").and_then(Value::as_array).cloned().unwrap_or_default() {
            let group_actor = actor["type"] == "atlassian-group-role-actor";
            if let Some(g) =
                actor["actorGroup"]["name"].as_str().or_else(|| actor["name"].as_str().filter(|_| group_actor))
            {
                groups.push(g.to_string());
            } else if let Some(account) = actor["actorUser"]["accountId"].as_str() {
                let url = format!("{}/user", self.api());
                let q = [("accountId", account)];
                let u = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
                if let Some(e) = u.get("emailAddress").and_then(Value::as_str) {
                    emails.push(e.to_string());
                }
            } else if let Some(name) = actor["name"].as_str().filter(|_| actor["type"] == "atlassian-user-role-actor") {
                // Data Center: user actors by username.
                let url = format!("{}/user", self.api());
                let q = [("username", name)];
                let u = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
                if let Some(e) = u.get("emailAddress").and_then(Value::as_str) {
                    emails.push(e.to_string());
                }
            }
        }
        Ok((emails, groups))
    }

    /// `GET /user/permission/search?permissions=ADD_COMMENTS&issueKey=…`
    /// (findUsersWithAllPermissions) with `accountId` (Cloud: exact match,
    /// one of `query`/`accountId` required) or `username` (Data Center: a
    /// filter "used to search username, name or e-mail address", so the
    /// answer is matched on `name` here). The answer is the array of users
    /// who have the permission. DC's filter can match more users than the
    /// one asked about (a prefix), so it asks for DC's largest page (1000).
    #[tracing::instrument(skip_all, fields(issue = %issue))]
    async fn user_may_comment(&self, issue: &IssueKey, account_id_or_name: &str) -> Result<bool, JiraError> {
        let url = format!("{}/user/permission/search", self.api());
        let mut q = vec![("permissions", "ADD_COMMENTS".to_string()), ("issueKey", issue.to_string())];
        match self.flavor {
            JiraFlavor::Cloud => q.push(("accountId", account_id_or_name.to_string())),
            JiraFlavor::Datacenter => {
                q.extend([("username", account_id_or_name.to_string()), ("maxResults", "1000".to_string())]);
            }
        }
        let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
        let field = match self.flavor {
            JiraFlavor::Cloud => "accountId",
            JiraFlavor::Datacenter => "name",
        };
        Ok(v.as_array().is_some_and(|users| {
            users.iter().any(|u| {
                u.get(field).and_then(Value::as_str).is_some_and(|id| match self.flavor {
                    JiraFlavor::Cloud => id == account_id_or_name,
                    // DC usernames are case-insensitive.
                    JiraFlavor::Datacenter => id.eq_ignore_ascii_case(account_id_or_name),
                })
            })
        }))
    }

    #[tracing::instrument(skip_all, fields(group))]
    async fn group_member_emails(&self, group: &str) -> Result<Vec<String>, JiraError> {
        let url = format!("{}/group/member", self.api());
        let mut out = Vec::new();
        let mut start = 0usize;
        let mut progress = Progress::default();
        loop {
            let q = [
                ("groupname", group.to_string()),
                ("startAt", start.to_string()),
                ("maxResults", "50".to_string()),
                ("includeInactiveUsers", "false".to_string()),
            ];
            let v = json_body(self.send(|| self.request(Method::GET, &url).query(&q), true).await?).await?;
            let values = v.get("values").and_then(Value::as_array).cloned().unwrap_or_default();
            let cursor = v.get("startAt").and_then(Value::as_u64).map_or_else(|| start.to_string(), |s| s.to_string());
            let advanced = progress.advanced(&cursor, values.iter().map(user_key));
            if !advanced {
                break;
            }
            out.extend(values.iter().filter_map(|u| u.get("emailAddress").and_then(Value::as_str)).map(String::from));
            start += values.len();
            let total = v.get("total").and_then(Value::as_u64).map(|t| t as usize);
            let last = v.get("isLast").and_then(Value::as_bool).unwrap_or(values.is_empty());
            if last || total.is_some_and(|t| start >= t) {
                break;
            }
        }
        Ok(out)
    }
}

/// What tells two users apart on a page: accountId (Cloud), else the DC
/// name/key, else the whole object.
fn user_key(u: &Value) -> String {
    ["accountId", "key", "name"]
        .iter()
        .find_map(|k| u.get(*k).and_then(Value::as_str).map(String::from))
        .unwrap_or_else(|| u.to_string())
}

/// A user object from an email search that may be the searched account
/// with its email hidden: active, a Jira account (not a portal customer),
/// and no `emailAddress` at all.
fn hidden_match(u: &Value) -> bool {
    u.get("emailAddress").is_none()
        && u.get("active").and_then(Value::as_bool).unwrap_or(true)
        && u.get("accountType").and_then(Value::as_str).is_none_or(|t| t == "atlassian")
}
