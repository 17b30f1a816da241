//! Conversations: create by id, append messages, files and surveys, close, read.

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, Authed, ConvRead, ConvWrite};
use crate::state::AppState;
use crate::v1::dto::{ConversationOut, FileOut, WriteOut};
use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use lethe_domain::conversation::NewFile;
use lethe_domain::{ConversationId, FileId};
use lethe_service::ingest::Created;
use lethe_service::wire::{CloseInput, ConversationInput, MessageInput, SurveyInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of this resource.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_conversation))
        .routes(routes!(get_conversation))
        .routes(routes!(append_message))
        .routes(routes!(download_file))
        .routes(routes!(add_survey))
        .routes(routes!(close_conversation))
}

/// The upload route, which gets the larger upload body limit.
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_file))
}

fn write_answer(id: String, created: Created) -> (StatusCode, Json<WriteOut>) {
    let status = if created == Created::New {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(WriteOut {
            id,
            created: created == Created::New,
        }),
    )
}

/// Creates a conversation, optionally with its content. Repeating the same body is a
/// no-op (200); another body under the same id is 409.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/conversations", tag = "ingest", request_body = ConversationInput,
    params(("site_id" = String, Path)),
    responses((status = 201, body = WriteOut), (status = 200, body = WriteOut), (status = 409, body = crate::error::ErrorBody)))]
async fn create_conversation(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    AppJson(body): AppJson<ConversationInput>,
) -> ApiResult<(StatusCode, Json<WriteOut>)> {
    let created = state.lethe.create_conversation(auth.site(), &body).await?;
    Ok(write_answer(body.id, created))
}

/// A conversation with its messages, attributes, survey answers and files.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/conversations/{conversation_id}", tag = "ingest",
    params(("site_id" = String, Path), ("conversation_id" = String, Path)),
    responses((status = 200, body = ConversationOut), (status = 404, body = crate::error::ErrorBody)))]
async fn get_conversation(
    State(state): State<AppState>,
    auth: Authed<ConvRead>,
    AppPath(path): AppPath<(String, String)>,
) -> ApiResult<Json<ConversationOut>> {
    let (_, id) = path;
    let id = ConversationId::parse(id)?;
    Ok(Json(state.lethe.conversation_view(auth.site(), &id).await?.into()))
}

/// Appends a message. The same id with the same content is a no-op; a closed
/// conversation is 409.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/conversations/{conversation_id}/messages", tag = "ingest",
    request_body = MessageInput, params(("site_id" = String, Path), ("conversation_id" = String, Path)),
    responses((status = 201, body = WriteOut), (status = 200, body = WriteOut), (status = 409, body = crate::error::ErrorBody)))]
async fn append_message(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    AppPath(path): AppPath<(String, String)>,
    AppJson(body): AppJson<MessageInput>,
) -> ApiResult<(StatusCode, Json<WriteOut>)> {
    let (_, id) = path;
    let id = ConversationId::parse(id)?;
    let created = state.lethe.append_message(auth.site(), &id, &body).await?;
    Ok(write_answer(body.id, created))
}

/// Uploads a hosted file (multipart: a text part `id` and a file part `file`).
#[utoipa::path(post, path = "/v1/accounts/{site_id}/conversations/{conversation_id}/files", tag = "ingest",
    params(("site_id" = String, Path), ("conversation_id" = String, Path)),
    responses((status = 201, body = FileOut), (status = 409, body = crate::error::ErrorBody), (status = 413, body = crate::error::ErrorBody)))]
async fn upload_file(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    AppPath(path): AppPath<(String, String)>,
    multipart: Multipart,
) -> ApiResult<(StatusCode, Json<FileOut>)> {
    let (_, id) = path;
    let id = ConversationId::parse(id)?;
    let file = read_upload(multipart).await?;
    let view = state.lethe.add_file(auth.site(), &id, file).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the upload is larger than this server accepts",
        );
    }
    ApiError::invalid("multipart", e.body_text())
}

async fn read_upload(mut multipart: Multipart) -> ApiResult<NewFile> {
    let (mut id, mut file) = (None, None);
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("id") => id = Some(field.text().await.map_err(multipart_error)?),
            Some("file") => {
                let name = field.file_name().map(str::to_owned);
                let content_type = field.content_type().unwrap_or("application/octet-stream").to_owned();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, content_type, bytes.to_vec()));
            }
            Some(other) => return Err(ApiError::invalid(other, "is not a part this upload takes (id, file)")),
            None => return Err(ApiError::invalid("multipart", "every part needs a name")),
        }
    }
    let id = FileId::parse(id.ok_or_else(|| ApiError::invalid("id", "the `id` part is required"))?)?;
    let (name, content_type, bytes) = file.ok_or_else(|| ApiError::invalid("file", "the `file` part is required"))?;
    Ok(NewFile {
        id,
        name,
        content_type,
        bytes,
    })
}

/// Downloads a hosted file's bytes.
#[utoipa::path(get, path = "/v1/accounts/{site_id}/conversations/{conversation_id}/files/{file_id}", tag = "ingest",
    params(("site_id" = String, Path), ("conversation_id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = crate::error::ErrorBody)))]
async fn download_file(
    State(state): State<AppState>,
    auth: Authed<ConvRead>,
    AppPath(path): AppPath<(String, String, String)>,
) -> ApiResult<Response> {
    let (_, id, file_id) = path;
    let id = ConversationId::parse(id)?;
    let (view, bytes) = state.lethe.file_bytes(auth.site(), &id, &file_id).await?;
    let content_type = header::HeaderValue::from_str(&view.content_type)
        .unwrap_or_else(|_| header::HeaderValue::from_static("application/octet-stream"));
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// Records a survey's answers for the conversation.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/conversations/{conversation_id}/surveys", tag = "ingest",
    request_body = SurveyInput, params(("site_id" = String, Path), ("conversation_id" = String, Path)),
    responses((status = 201, body = WriteOut), (status = 409, body = crate::error::ErrorBody)))]
async fn add_survey(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    AppPath(path): AppPath<(String, String)>,
    AppJson(body): AppJson<SurveyInput>,
) -> ApiResult<(StatusCode, Json<WriteOut>)> {
    let (_, id) = path;
    let id = ConversationId::parse(id)?;
    state.lethe.add_survey(auth.site(), &id, &body).await?;
    Ok(write_answer(body.survey_id, Created::New))
}

/// Closes an open conversation; its reporting row is derived now.
#[utoipa::path(post, path = "/v1/accounts/{site_id}/conversations/{conversation_id}/close", tag = "ingest",
    request_body = CloseInput, params(("site_id" = String, Path), ("conversation_id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
async fn close_conversation(
    State(state): State<AppState>,
    auth: Authed<ConvWrite>,
    AppPath(path): AppPath<(String, String)>,
    AppJson(body): AppJson<CloseInput>,
) -> ApiResult<StatusCode> {
    let (_, id) = path;
    let id = ConversationId::parse(id)?;
    state.lethe.close_conversation(auth.site(), &id, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
