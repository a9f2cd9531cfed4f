//! Serving a request on a WASIp3 component: `wasi:http/handler@0.3#handle` (spin-sdk 7,
//! Spin 4), run on a fresh instance inside the store's event loop
//! ([`wasmtime::Store::run_concurrent`]). The response body advances only while that loop
//! runs, so the loop forwards it to the shopper frame by frame.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{WasiBody, WasiHttpView};

use crate::handler::outcome::{Failure, ResponseSender};
use crate::state::State;

/// Runs a WASIp3 component's `wasi:http/handler#handle` in the store's event loop, sends the
/// response head as soon as the guest returns it, then keeps the loop running while it
/// forwards the body, so a streamed body reaches the shopper as the guest writes it.
pub async fn run(
    store: &mut wasmtime::Store<State>,
    pre: &wasmtime_wasi_http::p3::bindings::ServicePre<State>,
    request: Request<WasiBody>,
    sender: ResponseSender,
) -> wasmtime::Result<()> {
    let Some(request) = with_authority(request) else {
        let _ = sender.send(Err(Failure::BadRequest("The request has no Host header.")));
        return Ok(());
    };
    let service = pre.instantiate_async(&mut *store).await?;
    store
        .run_concurrent(async move |accessor| -> wasmtime::Result<()> {
            let (request, request_io) = accessor.with(|mut access| {
                let (request, io) =
                    wasmtime_wasi_http::p3::Request::from_http(access.get().http().hooks, request);
                let io: std::pin::Pin<
                    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                > = Box::pin(io);
                (request, io)
            });
            let response = match service.handle(accessor, request).await? {
                Ok(response) => response,
                Err(code) => {
                    let _ = sender.send(Err(Failure::Trap(format!(
                        "the component answered an error: {code:?}"
                    ))));
                    return Ok(());
                }
            };
            let response =
                accessor.with(|mut access| response.into_http(&mut access, request_io))?;
            let (head, mut body) = response.into_parts();
            let (tx, channel) = http_body_util::channel::Channel::new(2);
            if sender
                .send(Ok(Response::from_parts(head, channel.boxed_unsync())))
                .is_err()
            {
                return Ok(());
            }
            let mut tx = BodySender(Some(tx));
            while let Some(frame) = body.frame().await {
                let Some(sending) = tx.0.as_mut() else { break };
                match frame {
                    // The shopper went away: nobody wants the rest.
                    Ok(frame) => {
                        if sending.send(frame).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        if let Some(sending) = tx.0.take() {
                            sending.abort(e);
                        }
                    }
                }
            }
            tx.finish();
            Ok(())
        })
        .await?
}

/// The sending half of a streamed response body. Dropped before [`BodySender::finish`]
/// (the guest trapped or ran out of time mid-body), it aborts the body, so the shopper's
/// connection is cut rather than the page ending as if it were whole.
struct BodySender(Option<http_body_util::channel::Sender<Bytes, wasmtime_wasi_http::Error>>);

impl BodySender {
    fn finish(mut self) {
        self.0.take();
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        if let Some(sender) = self.0.take() {
            sender.abort(wasmtime_wasi_http::Error::InternalError(Some(
                "the component stopped before finishing its response".into(),
            )));
        }
    }
}

/// The request with an absolute URI (`http://<host><path>`), as a WASIp3 guest expects its
/// authority and scheme; `None` without a usable `Host` header.
fn with_authority(request: Request<WasiBody>) -> Option<Request<WasiBody>> {
    let (mut parts, body) = request.into_parts();
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    let authority = http::uri::Authority::try_from(host).ok()?;
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    uri.scheme = Some(http::uri::Scheme::HTTP);
    uri.authority = Some(authority);
    if uri.path_and_query.is_none() {
        uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    parts.uri = http::Uri::from_parts(uri).ok()?;
    Some(Request::from_parts(parts, body))
}
