//! Per-account settings, their defaults, and who may change which of them.

use crate::error::{DomainError, DomainResult};
use crate::time::DAY_MS;
use chrono::NaiveTime;
use serde::{Deserialize, Deserializer, Serialize};
use std::net::IpAddr;

wire_enum!(
    /// How a request becomes final: after the grace period alone, or also after an
    /// operator's approval.
    ApprovalMode { Auto = "auto", Manual = "manual" }
);
wire_enum!(
    /// Whether erasure removes rows or replaces personal text with a marker.
    ErasureMode { Delete = "delete", Mask = "mask" }
);

/// Longest grace period: the request must still be done within its 30 days.
pub const MAX_GRACE_SECONDS: u64 = (25 * DAY_MS / 1000) as u64;

/// An account's settings, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// The cancel window after a request is created.
    pub grace_period_seconds: u64,
    /// Operator-set floor under the grace period.
    pub min_grace_period_seconds: u64,
    pub approval_mode: ApprovalMode,
    /// Deletion requests per UTC month, counted on every surface.
    pub monthly_quota: u32,
    /// `always`, or `HH:MM-HH:MM Area/City` (a local off-peak window).
    pub execution_window: String,
    pub erasure_mode: ErasureMode,
    /// What masked text is replaced with.
    pub mask_marker: String,
    /// Whether erasure keeps per-conversation reporting rows (detached from the person).
    pub retain_metrics: bool,
    pub notification_email: Option<String>,
    pub webhook_url: Option<String>,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            grace_period_seconds: 5 * 86_400,
            min_grace_period_seconds: 0,
            approval_mode: ApprovalMode::Auto,
            monthly_quota: 100,
            execution_window: "always".into(),
            erasure_mode: ErasureMode::Delete,
            mask_marker: "[erased]".into(),
            retain_metrics: true,
            notification_email: None,
            webhook_url: None,
        }
    }
}

/// A partial update; `null` clears the two optional contacts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub grace_period_seconds: Option<u64>,
    pub min_grace_period_seconds: Option<u64>,
    pub approval_mode: Option<ApprovalMode>,
    pub monthly_quota: Option<u32>,
    pub execution_window: Option<String>,
    pub erasure_mode: Option<ErasureMode>,
    pub mask_marker: Option<String>,
    pub retain_metrics: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub notification_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub webhook_url: Option<Option<String>>,
}

fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn operator_only(field: &str) -> DomainError {
    DomainError::Forbidden(format!("`{field}` can only be changed by an operator"))
}

impl AccountSettings {
    /// Applies a patch. Account admins may tighten but never loosen what protects data
    /// subjects and the deployment; `operator` lifts that.
    pub fn apply(&self, patch: SettingsPatch, operator: bool) -> DomainResult<(Self, Vec<&'static str>)> {
        let mut next = self.clone();
        let mut changed = Vec::new();
        macro_rules! set {
            ($field:ident) => {
                if let Some(value) = patch.$field {
                    if value != next.$field {
                        next.$field = value;
                        changed.push(stringify!($field));
                    }
                }
            };
        }
        set!(grace_period_seconds);
        set!(min_grace_period_seconds);
        set!(approval_mode);
        set!(monthly_quota);
        set!(execution_window);
        set!(erasure_mode);
        set!(mask_marker);
        set!(retain_metrics);
        set!(notification_email);
        set!(webhook_url);
        if !operator {
            if next.min_grace_period_seconds != self.min_grace_period_seconds {
                return Err(operator_only("min_grace_period_seconds"));
            }
            if next.monthly_quota != self.monthly_quota {
                return Err(operator_only("monthly_quota"));
            }
            if next.approval_mode == ApprovalMode::Auto && self.approval_mode == ApprovalMode::Manual {
                return Err(operator_only("approval_mode"));
            }
            if next.webhook_url != self.webhook_url && next.webhook_url.as_deref().is_some_and(is_internal_url) {
                return Err(DomainError::Forbidden(
                    "webhook_url: only an operator may point webhooks at private or loopback addresses".into(),
                ));
            }
        }
        next.validate()?;
        Ok((next, changed))
    }

    /// Checks every field's form and the rules between them.
    pub fn validate(&self) -> DomainResult<()> {
        if self.grace_period_seconds > MAX_GRACE_SECONDS {
            return Err(DomainError::invalid(
                "grace_period_seconds",
                format!("must be at most {MAX_GRACE_SECONDS} (25 days): requests are due within 30 days"),
            ));
        }
        if self.grace_period_seconds < self.min_grace_period_seconds {
            return Err(DomainError::invalid(
                "grace_period_seconds",
                format!("must be at least the minimum of {}", self.min_grace_period_seconds),
            ));
        }
        ExecutionWindow::parse(&self.execution_window)?;
        let marker = self.mask_marker.chars().count();
        if marker == 0 || marker > 64 || self.mask_marker.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "mask_marker",
                "must be 1 to 64 printable characters",
            ));
        }
        if let Some(email) = &self.notification_email {
            let well_formed = email.len() <= 254
                && email
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                && !email.chars().any(|c| c.is_whitespace() || c.is_control());
            if !well_formed {
                return Err(DomainError::invalid("notification_email", "must be an e-mail address"));
            }
        }
        if let Some(hook) = &self.webhook_url {
            let url = url::Url::parse(hook).map_err(|e| DomainError::invalid("webhook_url", e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(DomainError::invalid(
                    "webhook_url",
                    "must be an http(s) URL with a host",
                ));
            }
        }
        Ok(())
    }
}

/// Whether a URL names a loopback, private, link-local or unspecified host.
pub fn is_internal_url(value: &str) -> bool {
    let Ok(url) = url::Url::parse(value) else { return false };
    match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal")
        }
        Some(url::Host::Ipv4(ip)) => is_internal_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_internal_ip(IpAddr::V6(ip)),
        None => false,
    }
}

fn is_internal_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.octets()[0] == 0
                // 100.64.0.0/10, carrier-grade NAT
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal_ip(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// When jobs may run: always, or inside a daily local window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionWindow {
    Always,
    /// `start` to `end` local time in `zone`; `end < start` wraps past midnight.
    Daily {
        start: NaiveTime,
        end: NaiveTime,
        zone: chrono_tz::Tz,
    },
}

impl ExecutionWindow {
    /// Parses `always` or `HH:MM-HH:MM Area/City`.
    pub fn parse(value: &str) -> DomainResult<Self> {
        let bad = || {
            DomainError::invalid(
                "execution_window",
                "must be `always` or `HH:MM-HH:MM Area/City`, e.g. `01:00-05:00 Europe/Berlin`",
            )
        };
        if value == "always" {
            return Ok(Self::Always);
        }
        let (times, zone) = value.split_once(' ').ok_or_else(bad)?;
        let (start, end) = times.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").map_err(|_| bad());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(DomainError::invalid("execution_window", "start and end must differ"));
        }
        let zone: chrono_tz::Tz = zone
            .parse()
            .map_err(|_| DomainError::invalid("execution_window", format!("unknown time zone `{zone}`")))?;
        Ok(Self::Daily { start, end, zone })
    }
}

impl ExecutionWindow {
    /// Whether jobs may run at `ms` (epoch milliseconds).
    pub fn is_open(&self, ms: crate::Millis) -> bool {
        self.next_open(ms) == ms
    }

    /// The first instant at or after `ms` when the window is open.
    pub fn next_open(&self, ms: crate::Millis) -> crate::Millis {
        let Self::Daily { start, end, zone } = self else {
            return ms;
        };
        let Some(utc) = chrono::DateTime::from_timestamp_millis(ms) else {
            return ms;
        };
        let local = utc.with_timezone(zone).time();
        let open = if start < end {
            local >= *start && local < *end
        } else {
            local >= *start || local < *end
        };
        if open {
            return ms;
        }
        // Walk forward in minutes to the local start: exact across DST changes, and at
        // most a day of steps.
        let step = 60_000;
        let mut t = ms - ms.rem_euclid(step) + step;
        for _ in 0..(26 * 60) {
            if let Some(at) = chrono::DateTime::from_timestamp_millis(t) {
                let now = at.with_timezone(zone).time();
                if now >= *start && (now < *end || start > end) {
                    return t;
                }
            }
            t += step;
        }
        ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: serde_json::Value) -> SettingsPatch {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn account_admins_cannot_loosen_protections() {
        let manual = AccountSettings {
            approval_mode: ApprovalMode::Manual,
            ..AccountSettings::default()
        };
        let err = |s: &AccountSettings, p| s.apply(patch(p), false).unwrap_err();
        assert!(matches!(
            err(&manual, serde_json::json!({"approval_mode": "auto"})),
            DomainError::Forbidden(_)
        ));
        let defaults = AccountSettings::default();
        assert!(matches!(
            err(&defaults, serde_json::json!({"monthly_quota": 5})),
            DomainError::Forbidden(_)
        ));
        let hook = serde_json::json!({"webhook_url": "http://10.0.0.8/hook"});
        assert!(matches!(err(&defaults, hook.clone()), DomainError::Forbidden(_)));
        assert!(defaults.apply(patch(hook), true).is_ok());
        let (tight, changed) = defaults
            .apply(patch(serde_json::json!({"approval_mode": "manual"})), false)
            .unwrap();
        assert_eq!(tight.approval_mode, ApprovalMode::Manual);
        assert_eq!(changed, vec!["approval_mode"]);
    }

    #[test]
    fn validates_forms() {
        let d = AccountSettings::default();
        for bad in [
            serde_json::json!({"execution_window": "01:00-05:00 Mars/Base"}),
            serde_json::json!({"execution_window": "1-5"}),
            serde_json::json!({"grace_period_seconds": 40 * 86_400}),
            serde_json::json!({"notification_email": "nobody"}),
            serde_json::json!({"webhook_url": "ftp://example.com"}),
            serde_json::json!({"mask_marker": ""}),
        ] {
            assert!(
                matches!(d.apply(patch(bad.clone()), true), Err(DomainError::Invalid { .. })),
                "{bad}"
            );
        }
        assert!(ExecutionWindow::parse("22:00-04:00 Europe/Berlin").is_ok());
        let night = ExecutionWindow::parse("01:00-05:00 Europe/Berlin").unwrap();
        let noon = crate::time::parse_rfc3339("2026-11-24T12:00:00Z").unwrap();
        assert!(!night.is_open(noon));
        let opens = night.next_open(noon);
        assert_eq!(
            crate::time::to_rfc3339(opens),
            "2026-11-25T00:00:00.000Z",
            "01:00 in Berlin (UTC+1)"
        );
        assert!(night.is_open(opens));
        assert!(ExecutionWindow::Always.is_open(noon));
        assert!(is_internal_url("http://[::1]:8080/x"));
        assert!(is_internal_url("http://localhost/x"));
        assert!(!is_internal_url("https://hooks.example.com/x"));
    }
}
