//! Server tags: how they are kept, the rules they follow, and the tag operations (batch
//! create/delete on one server, the server's and the project's tags, the query by tag).
//!
//! A tag is kept in `Server.tags` as the string `key=value`, exactly as the server detail
//! shows it (Terraform splits `tags` at `=`); an empty value is `key=`. Records written before
//! that form was chosen hold `key.value`: keys cannot contain `.`, so those split
//! unambiguously at the first `.` and are rewritten in the new form on the next tag change.

use super::{internal, server_of};
use crate::caller::Caller;
use crate::context::App;
use ecs_model::server::Server;
use ecs_model::{gates, Error};
use ecs_store::ServerFilter;
use ecs_types::requests::Tag;
use ecs_types::tags::*;
use std::collections::{BTreeMap, BTreeSet};

/// Most tags one server may carry (Huawei: 10).
pub const MAX_TAGS: usize = 10;
/// Longest key, in characters.
pub const MAX_KEY: usize = 36;
/// Longest value, in characters.
pub const MAX_VALUE: usize = 43;
/// Most keys, and most values under one key, in a query-by-tag condition list.
pub const MAX_CONDITIONS: usize = 10;
/// Largest and default page of a query by tag.
pub const MAX_LIMIT: i64 = 1000;

/// Splits a kept tag into key and value.
pub fn split(tag: &str) -> (String, String) {
    if let Some((k, v)) = tag.split_once('=') {
        return (k.to_string(), v.to_string());
    }
    match tag.split_once('.') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => (tag.to_string(), String::new()),
    }
}

/// The kept (and shown) form of a tag.
pub fn join(key: &str, value: &str) -> String {
    format!("{key}={value}")
}

/// A server's tags as key → value, in key order.
pub fn of(s: &Server) -> BTreeMap<String, String> {
    s.tags.iter().map(|t| split(t)).collect()
}

/// The `tags` of the server detail: every tag as `key=value`.
pub fn shown(s: &Server) -> Vec<String> {
    of(s).iter().map(|(k, v)| join(k, v)).collect()
}

/// A value of the server list's `tags` / `not-tags` filter: `key=value`, or `key.value` as
/// the legacy create field writes tags, both meaning the same tag; a bare `key` is left as it
/// is and matches that key with any value.
pub fn list_filter_value(v: &str) -> String {
    if v.contains('=') || !v.contains('.') {
        return v.to_string();
    }
    let (k, val) = split(v);
    join(&k, &val)
}

/// A comma-separated `tags` / `not-tags` filter of a server list (`/v1` or `/v1.1`), each
/// value read by [`list_filter_value`].
pub fn list_filter(v: Option<&str>) -> Vec<String> {
    v.map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(list_filter_value).collect())
        .unwrap_or_default()
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// A tag key: 1–36 characters of letters, digits, `-`, `_` and CJK ideographs.
pub fn check_key(key: &str) -> Result<(), Error> {
    let n = key.chars().count();
    if n == 0 || n > MAX_KEY {
        return Err(Error::invalid(format!("tag key {key:?} must be 1 to {MAX_KEY} characters long, got {n}.")));
    }
    if let Some(c) = key.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || is_cjk(c))) {
        return Err(Error::invalid(format!(
            "tag key {key:?} contains {c:?}; only letters, digits, '-', '_' and Chinese characters are allowed."
        )));
    }
    Ok(())
}

/// A tag value: at most 43 characters of letters, digits, `.`, `-`, `_` and CJK ideographs;
/// may be empty.
pub fn check_value(key: &str, value: &str) -> Result<(), Error> {
    let n = value.chars().count();
    if n > MAX_VALUE {
        return Err(Error::invalid(format!("the value of tag {key:?} must be at most {MAX_VALUE} characters long.")));
    }
    if let Some(c) = value.chars().find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || is_cjk(c)))
    {
        return Err(Error::invalid(format!(
            "the value of tag {key:?} contains {c:?}; only letters, digits, '.', '-', '_' and Chinese characters are allowed."
        )));
    }
    Ok(())
}

/// Checks a list of key/value pairs: each key valid and named once, each value valid.
fn checked(tags: Vec<(Option<String>, Option<String>)>, field: &str) -> Result<Vec<(String, String)>, Error> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(tags.len());
    for (k, v) in tags {
        let k = k.ok_or_else(|| Error::invalid(format!("{field}[].key is required.")))?;
        check_key(&k)?;
        let v = v.unwrap_or_default();
        check_value(&k, &v)?;
        if !seen.insert(k.clone()) {
            return Err(Error::invalid(format!("{field} names the tag key {k:?} more than once.")));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// The create request's `server_tags`, checked, in the kept form.
pub fn from_create(server_tags: Option<Vec<Tag>>) -> Result<Vec<String>, Error> {
    let pairs =
        checked(server_tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(), "server_tags")?;
    if pairs.len() > MAX_TAGS {
        return Err(Error::invalid(format!("server_tags: a server can have at most {MAX_TAGS} tags.")));
    }
    Ok(pairs.iter().map(|(k, v)| join(k, v)).collect())
}

/// `POST /v1/{project_id}/cloudservers/{server_id}/tags/action`: `create` adds tags (a key the
/// server already has gets the new value), `delete` removes them by key (a value, if given,
/// must match; keys the server does not have are ignored). The whole request is checked before
/// anything is written, and it is written at once or not at all.
pub async fn batch(app: &App, caller: &Caller, id: &str, body: BatchTagsBody) -> Result<(), Error> {
    let create = match body.action.as_deref() {
        Some("create") => true,
        Some("delete") => false,
        Some(other) => {
            return Err(Error::invalid(format!("action {other:?} is invalid; use \"create\" or \"delete\".")))
        }
        None => return Err(Error::invalid("action is required: \"create\" or \"delete\".")),
    };
    let tags = body.tags.ok_or_else(|| Error::invalid("tags is required."))?;
    if tags.is_empty() {
        return Err(Error::invalid("tags must name at least one tag."));
    }
    if create && tags.len() > MAX_TAGS {
        return Err(Error::invalid(format!("a server can have at most {MAX_TAGS} tags.")));
    }
    let pairs = checked(tags.into_iter().map(|t| (t.key, t.value)).collect(), "tags")?;
    let apply = |s: &Server| {
        let mut now = of(s);
        for (k, v) in &pairs {
            if create {
                now.insert(k.clone(), v.clone());
            } else if now.get(k).is_some_and(|have| v.is_empty() || have == v) {
                now.remove(k);
            }
        }
        now
    };
    let gate = |s: &Server| {
        gates::update_allowed(s)?;
        let after = apply(s).len();
        if after > MAX_TAGS {
            return Err(Error::invalid(format!(
                "server {} would have {after} tags; a server can have at most {MAX_TAGS}.",
                s.id
            )));
        }
        Ok(())
    };
    super::update_gated(app, &caller.project_id, id, gate, |s| {
        s.tags = apply(s).iter().map(|(k, v)| join(k, v)).collect();
    })
    .await?;
    Ok(())
}

fn tag_views(s: &Server) -> Vec<ServerTag> {
    of(s).into_iter().map(|(key, value)| ServerTag { key, value }).collect()
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/tags`.
pub async fn show(app: &App, caller: &Caller, id: &str) -> Result<ServerTags, Error> {
    let row = server_of(app, &caller.project_id, id).await?;
    Ok(ServerTags { tags: tag_views(&row.server) })
}

/// Every server of the project, newest first.
async fn all_servers(app: &App, caller: &Caller) -> Result<Vec<Server>, Error> {
    let filter = ServerFilter { limit: usize::MAX, page: 1, ..Default::default() };
    let page = app.ctx.store.server_list(&caller.project_id, &filter).await.map_err(internal)?;
    Ok(page.servers.into_iter().map(|r| r.server).collect())
}

/// `GET /v1/{project_id}/cloudservers/tags`: every key used in the project, with the values
/// it has.
pub async fn project(app: &App, caller: &Caller) -> Result<ProjectTags, Error> {
    let mut keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in all_servers(app, caller).await? {
        for (k, v) in of(&s) {
            keys.entry(k).or_default().insert(v);
        }
    }
    Ok(ProjectTags {
        tags: keys.into_iter().map(|(key, values)| ProjectTag { key, values: values.into_iter().collect() }).collect(),
    })
}

/// A checked condition: the key and the values it accepts (empty: any value).
type Condition = (String, Vec<String>);

fn conditions(list: Option<Vec<TagCondition>>, field: &str) -> Result<Vec<Condition>, Error> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_CONDITIONS {
        return Err(Error::invalid(format!("{field} may name at most {MAX_CONDITIONS} keys.")));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(list.len());
    for c in list {
        let key =
            c.key.filter(|k| !k.is_empty()).ok_or_else(|| Error::invalid(format!("{field}[].key is required.")))?;
        if key.chars().count() > 127 {
            return Err(Error::invalid(format!("{field}: key {key:?} is longer than 127 characters.")));
        }
        if !seen.insert(key.clone()) {
            return Err(Error::invalid(format!("{field} names the key {key:?} more than once.")));
        }
        let values = c.values.unwrap_or_default();
        if values.len() > MAX_CONDITIONS {
            return Err(Error::invalid(format!("{field}: key {key:?} may have at most {MAX_CONDITIONS} values.")));
        }
        let mut vs = BTreeSet::new();
        for v in &values {
            if v.chars().count() > 255 {
                return Err(Error::invalid(format!("{field}: a value of key {key:?} is longer than 255 characters.")));
            }
            if !vs.insert(v.clone()) {
                return Err(Error::invalid(format!("{field}: key {key:?} names the value {v:?} more than once.")));
            }
        }
        out.push((key, values));
    }
    Ok(out)
}

fn number(v: Option<StrOrInt>, field: &str, default: i64, max: i64) -> Result<i64, Error> {
    let n = match v {
        None => return Ok(default),
        Some(StrOrInt::Int(n)) => n,
        Some(StrOrInt::Str(s)) if s.is_empty() => return Ok(default),
        Some(StrOrInt::Str(s)) => {
            s.parse::<i64>().map_err(|_| Error::invalid(format!("{field} must be a number, got {s:?}.")))?
        }
    };
    if n < 0 || n > max {
        return Err(Error::invalid(format!("{field} must be between 0 and {max}, got {n}.")));
    }
    Ok(n)
}

fn holds(tags: &BTreeMap<String, String>, (key, values): &Condition) -> bool {
    tags.get(key).is_some_and(|v| values.is_empty() || values.contains(v))
}

/// `POST /v1/{project_id}/cloudservers/resource_instances/action`: the servers that have all of
/// `tags`, one of `tags_any`, not all of `not_tags`, none of `not_tags_any`, and whose name
/// contains the `resource_name` match; a page of them (`filter`) or their number (`count`).
pub async fn query(app: &App, caller: &Caller, body: ListByTagBody) -> Result<TaggedResources, Error> {
    let count_only = match body.action.as_deref() {
        Some("filter") => false,
        Some("count") => true,
        Some(other) => {
            return Err(Error::invalid(format!("action {other:?} is invalid; use \"filter\" or \"count\".")))
        }
        None => return Err(Error::invalid("action is required: \"filter\" or \"count\".")),
    };
    let limit = number(body.limit, "limit", MAX_LIMIT, MAX_LIMIT)?;
    let offset = number(body.offset, "offset", 0, i64::MAX)?;
    let all = conditions(body.tags, "tags")?;
    let any = conditions(body.tags_any, "tags_any")?;
    let not_all = conditions(body.not_tags, "not_tags")?;
    let not_any = conditions(body.not_tags_any, "not_tags_any")?;
    let mut name_match = None;
    for m in body.matches.unwrap_or_default() {
        match m.key.as_deref() {
            Some("resource_name") => {}
            Some(k) => {
                return Err(Error::invalid(format!(
                    "matches: key {k:?} is invalid; only \"resource_name\" is supported."
                )))
            }
            None => return Err(Error::invalid("matches[].key is required.")),
        }
        if name_match.is_some() {
            return Err(Error::invalid("matches names the key \"resource_name\" more than once."));
        }
        let v =
            m.value.filter(|v| !v.is_empty()).ok_or_else(|| Error::invalid("matches[].value must not be empty."))?;
        if v.chars().count() > 255 {
            return Err(Error::invalid("matches[].value must be at most 255 characters long."));
        }
        name_match = Some(v);
    }
    let hits: Vec<Server> = all_servers(app, caller)
        .await?
        .into_iter()
        .filter(|s| {
            let t = of(s);
            all.iter().all(|c| holds(&t, c))
                && (any.is_empty() || any.iter().any(|c| holds(&t, c)))
                && (not_all.is_empty() || !not_all.iter().all(|c| holds(&t, c)))
                && !not_any.iter().any(|c| holds(&t, c))
                && name_match.as_ref().is_none_or(|n| s.name.contains(n.as_str()))
        })
        .collect();
    let total_count = hits.len() as i64;
    if count_only {
        return Ok(TaggedResources { resources: None, total_count });
    }
    let resources = hits
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|s| TaggedResource {
            resource_id: s.id.clone(),
            resource_detail: String::new(),
            tags: tag_views(s),
            resource_name: s.name.clone(),
        })
        .collect();
    Ok(TaggedResources { resources: Some(resources), total_count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_form_and_legacy_form_split_alike() {
        assert_eq!(split("env=prod.eu"), ("env".into(), "prod.eu".into()));
        assert_eq!(split("env.prod.eu"), ("env".into(), "prod.eu".into()));
        assert_eq!(split("bare"), ("bare".into(), String::new()));
        assert_eq!(split("empty="), ("empty".into(), String::new()));
        assert_eq!(list_filter_value("env.prod"), "env=prod");
        assert_eq!(list_filter_value("env=prod"), "env=prod");
        assert_eq!(list_filter_value("env"), "env");
    }

    #[test]
    fn key_and_value_rules() {
        assert!(check_key("team_a-1").is_ok());
        assert!(check_key("项目").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(37)).is_err());
        assert!(check_key("a.b").is_err());
        assert!(check_key("a=b").is_err());
        assert!(check_value("k", "").is_ok());
        assert!(check_value("k", "v1.2-x_y").is_ok());
        assert!(check_value("k", &"v".repeat(44)).is_err());
        assert!(check_value("k", "a b").is_err());
    }

    #[test]
    fn create_tags_are_checked_and_kept_as_key_equals_value() {
        let t = |k: &str, v: Option<&str>| Tag { key: Some(k.into()), value: v.map(str::to_string) };
        assert_eq!(from_create(Some(vec![t("a", Some("1")), t("b", None)])).unwrap(), vec!["a=1", "b="]);
        assert!(from_create(Some(vec![t("a", Some("1")), t("a", Some("2"))])).is_err());
        assert!(from_create(Some((0..11).map(|i| t(&format!("k{i}"), None)).collect())).is_err());
        assert!(from_create(Some(vec![Tag { key: None, value: None }])).is_err());
    }
}
