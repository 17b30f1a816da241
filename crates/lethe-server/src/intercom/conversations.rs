//! `DELETE /conversations/{id}?retain_metrics=` and `GET /conversations/{id}`.

use super::auth::IntercomCaller;
use super::error::{IntercomError, IntercomErrorBody};
use crate::state::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use lethe_domain::conversation::{MessageBody, SentBy};
use lethe_domain::{ConversationId, Scope};
use lethe_service::views::{ConversationView, MessageView};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(delete_conversation, get_conversation))
}

/// What a delete answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedOut {
    pub id: String,
    pub object: &'static str,
    pub deleted: bool,
}

type Answer<T> = Result<Json<T>, IntercomError>;

fn forbid(scope: Scope) -> IntercomError {
    IntercomError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!("this key lacks the `{scope}` scope"),
    )
}

fn conversation_id(path: Result<Path<String>, PathRejection>) -> Result<ConversationId, IntercomError> {
    let invalid = |m: String| IntercomError::new(StatusCode::BAD_REQUEST, "parameter_invalid", m);
    let Path(id) = path.map_err(|e| invalid(e.body_text()))?;
    ConversationId::parse(id).map_err(|e| invalid(e.to_string()))
}

/// `retain_metrics`: `true` (the default) or `false`, nothing else.
fn retain_metrics(query: Option<&str>) -> Result<bool, IntercomError> {
    let mut retain = true;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if name == "retain_metrics" {
            retain = match value.as_ref() {
                "true" => true,
                "false" => false,
                other => {
                    return Err(IntercomError::new(
                        StatusCode::BAD_REQUEST,
                        "parameter_invalid",
                        format!("retain_metrics must be true or false, not `{other}`"),
                    ))
                }
            };
        }
    }
    Ok(retain)
}

/// Deletes a conversation now: when this answers 200, its rows, data key and blobs are
/// gone. `retain_metrics=false` also removes its reporting row (and needs
/// `delete_conversations_and_metrics`).
#[utoipa::path(delete, path = "/conversations/{id}", tag = "intercom",
    params(("id" = String, Path), ("retain_metrics" = Option<bool>, Query), ("Intercom-Version" = Option<String>, Header)),
    responses((status = 200, body = DeletedOut), (status = 400, body = IntercomErrorBody),
        (status = 401, body = IntercomErrorBody), (status = 403, body = IntercomErrorBody), (status = 404, body = IntercomErrorBody)))]
async fn delete_conversation(
    State(state): State<AppState>,
    caller: IntercomCaller,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Answer<DeletedOut> {
    let scopes = caller.principal.scopes;
    if !scopes.contains(Scope::ConversationsDelete) {
        return Err(forbid(Scope::ConversationsDelete));
    }
    let retain = retain_metrics(query.as_deref())?;
    if !retain && !scopes.contains(Scope::DeleteConversationsAndMetrics) {
        return Err(forbid(Scope::DeleteConversationsAndMetrics));
    }
    let id = conversation_id(path)?;
    state
        .lethe
        .delete_conversation_now(&caller.principal, &caller.site, &id, retain)
        .await?;
    Ok(Json(DeletedOut {
        id: id.as_str().to_owned(),
        object: "conversation",
        deleted: true,
    }))
}

/// A conversation in Intercom's shape; 404 once erased.
#[utoipa::path(get, path = "/conversations/{id}", tag = "intercom",
    params(("id" = String, Path), ("Intercom-Version" = Option<String>, Header)),
    responses((status = 200, body = Object), (status = 401, body = IntercomErrorBody), (status = 404, body = IntercomErrorBody)))]
async fn get_conversation(
    State(state): State<AppState>,
    caller: IntercomCaller,
    path: Result<Path<String>, PathRejection>,
) -> Answer<Value> {
    if !caller.principal.scopes.contains(Scope::ConversationsRead) {
        return Err(forbid(Scope::ConversationsRead));
    }
    let id = conversation_id(path)?;
    let view = state.lethe.conversation_view(&caller.site, &id).await?;
    Ok(Json(render(&view)))
}

fn text(body: &MessageBody) -> String {
    match body {
        MessageBody::Text(text) => text.clone(),
        MessageBody::Link { url, caption } => caption.clone().unwrap_or_else(|| url.clone()),
        MessageBody::HostedFile { caption, .. } => caption.clone().unwrap_or_default(),
        MessageBody::RichContent(value) => value.to_string(),
    }
}

fn author(view: &ConversationView, m: &MessageView) -> Value {
    let consumer = m.sent_by == SentBy::Consumer;
    let id = m.participant_id.clone().or_else(|| {
        if consumer {
            view.record.consumer_id.clone()
        } else {
            view.record.agent_id.clone()
        }
    });
    json!({"type": if consumer { "user" } else { "admin" }, "id": id})
}

fn render(view: &ConversationView) -> Value {
    let r = &view.record;
    let secs = |ms: i64| ms.div_euclid(1000);
    let updated = view
        .messages
        .iter()
        .map(|m| m.time)
        .chain(r.end_time)
        .fold(r.start_time, i64::max);
    let open = r.status == "open";
    let (first, rest) = match view.messages.split_first() {
        Some((first, rest)) => (Some(first), rest),
        None => (None, &[][..]),
    };
    let parts: Vec<Value> = rest
        .iter()
        .map(|m| {
            json!({"type": "conversation_part", "id": m.id, "part_type": "comment", "body": text(&m.body),
                   "created_at": secs(m.time), "author": author(view, m)})
        })
        .collect();
    let contacts: Vec<Value> = r
        .consumer_id
        .iter()
        .map(|c| json!({"type": "contact", "id": c}))
        .collect();
    json!({
        "type": "conversation",
        "id": r.conversation_id,
        "created_at": secs(r.start_time),
        "updated_at": secs(updated),
        "state": if open { "open" } else { "closed" },
        "open": open,
        "source": {"type": "conversation", "id": first.map(|m| m.id.clone()), "body": first.map(|m| text(&m.body))},
        "contacts": {"type": "contact.list", "contacts": contacts},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts, "total_count": rest.len()},
    })
}
