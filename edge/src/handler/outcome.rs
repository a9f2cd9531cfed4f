//! How serving a request can end other than with the component's own response, the page
//! each way gets, and where a guest's response head goes.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::WasiBody;

use crate::state::State;

/// Why a request did not get the component's own response.
#[derive(Debug)]
pub enum Failure {
    NotFound,
    Busy,
    /// The component holds its whole share of the node's instances.
    Share,
    /// The component is quarantined and already running its one request.
    Quarantined,
    BodyTooLarge,
    BadRequest(&'static str),
    Deadline,
    Cpu,
    Memory,
    Trap(String),
}

impl Failure {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Busy
            | Self::Share
            | Self::Quarantined
            | Self::Deadline
            | Self::Cpu
            | Self::Memory => StatusCode::SERVICE_UNAVAILABLE,
            Self::Trap(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable code for logs and the `x-meridian-error` header.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Busy => "busy",
            Self::Share => "share",
            Self::Quarantined => "quarantined",
            Self::BodyTooLarge => "body_too_large",
            Self::BadRequest(_) => "bad_request",
            Self::Deadline => "deadline",
            Self::Cpu => "cpu",
            Self::Memory => "memory",
            Self::Trap(_) => "trap",
        }
    }

    pub fn page(&self) -> Response<WasiBody> {
        let (title, text) = match self {
            Self::NotFound => ("Page not found", "There is no page at this address."),
            Self::Busy | Self::Share | Self::Quarantined => (
                "Busy",
                "The shop is very busy right now. Please try again in a moment.",
            ),
            Self::BodyTooLarge => (
                "Request too large",
                "What was sent is larger than the shop accepts.",
            ),
            Self::BadRequest(why) => ("Bad request", *why),
            Self::Deadline => (
                "Temporarily unavailable",
                "This page took too long to prepare. Please try again in a moment.",
            ),
            Self::Cpu => (
                "Temporarily unavailable",
                "This page needed more computing time than the shop allows. Please try again in a moment.",
            ),
            Self::Memory => (
                "Temporarily unavailable",
                "This page needed more memory than the shop allows. Please try again in a moment.",
            ),
            Self::Trap(_) => (
                "Something went wrong",
                "This page could not be shown. Please try again in a moment.",
            ),
        };
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>\n"
        );
        let mut response = Response::new(full(html));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert("x-meridian-error", HeaderValue::from_static(self.code()));
        if matches!(
            self,
            Self::Busy
                | Self::Share
                | Self::Quarantined
                | Self::Deadline
                | Self::Cpu
                | Self::Memory
        ) {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

pub fn full(body: impl Into<Bytes>) -> WasiBody {
    Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// Where a guest's response head goes: to the shopper's connection.
pub type ResponseSender = tokio::sync::oneshot::Sender<Result<Response<WasiBody>, Failure>>;

/// Names why a guest call failed: the CPU deadline, the memory cap, or a trap.
pub fn classify(error: &wasmtime::Error, state: &State) -> Failure {
    if error.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
        return if state.cpu_exceeded() {
            Failure::Cpu
        } else {
            Failure::Deadline
        };
    }
    if state.memory_exceeded() {
        return Failure::Memory;
    }
    Failure::Trap(format!("{error:#}"))
}
