//! A WASIp3 test guest for the edge node (`edge/tests/node/p3.rs`), written the way a Spin 4
//! application is: spin-sdk 7's `#[http_service]`, which exports `wasi:http/handler@0.3.0`,
//! with `spin:key-value@3.0.0` and `spin:variables@3.0.0`. It is never deployed.
//!
//! | path | answers |
//! |---|---|
//! | `/p3/hello?name=N` | `hello N from wasi:http@0.3` and the region header the node adds |
//! | `/p3/kv/{key}` | `GET`: the value (404 if none); `PUT`: stores the body; `DELETE` |
//! | `/p3/kv-keys` | every key of the default store, one per line (the `get-keys` stream) |
//! | `/p3/kv-open/{label}` | opens store `label`: `opened`, or 403 with Spin's error |
//! | `/p3/var/{name}` | the variable's value, or 404 with Spin's error |
//! | `/p3/fetch?{url}` | an outbound `GET` of `url`: `status N` and the body, or 502 with why |
//! | `/p3/echo` | the request body's length (`POST`) |
//! | `/p3/stream/{kib}` | `kib` KiB of `x`, sent 1 KiB at a time from a spawned task |
//! | `/p3/stream-trap` | 2 MiB of `x`, then a panic in the task writing them |
//! | `/p3/loop` | never returns (the node's CPU deadline must stop it) |
//! | `/p3/trap` | panics at once |
// Natively (clippy, tests of the workspace) nothing is exported, so nothing is used.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

use futures::SinkExt;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{BoxBody, FullBody, Method, Request, StatusCode, box_body};
use spin_sdk::http_service;
use spin_sdk::key_value::Store;

type Reply = http::Response<BoxBody>;

fn text(status: StatusCode, body: impl Into<String>) -> Reply {
    let mut response =
        http::Response::new(box_body(FullBody::new(bytes::Bytes::from(body.into()))));
    *response.status_mut() = status;
    response
}

#[http_service]
async fn handle(request: Request) -> anyhow::Result<Reply> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let rest = path.strip_prefix("/p3/").unwrap_or_default();
    let (action, argument) = rest.split_once('/').unwrap_or((rest, ""));
    Ok(match action {
        "hello" => {
            let name = query.strip_prefix("name=").unwrap_or("stranger");
            let region = request
                .headers()
                .get("x-meridian-region")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            text(
                StatusCode::OK,
                format!("hello {name} from wasi:http@0.3\nregion: {region}\n"),
            )
        }
        "kv" => key_value(&method, argument, request).await?,
        "kv-keys" => {
            let store = Store::open_default().await?;
            let mut keys = store.get_keys().await.collect().await?;
            keys.sort();
            text(StatusCode::OK, keys.join("\n"))
        }
        "kv-open" => match Store::open(argument).await {
            Ok(_) => text(StatusCode::OK, "opened"),
            Err(e) => text(StatusCode::FORBIDDEN, format!("{e:?}")),
        },
        "var" => match spin_sdk::variables::get(argument).await {
            Ok(value) => text(StatusCode::OK, value),
            Err(e) => text(StatusCode::NOT_FOUND, format!("{e:?}")),
        },
        "fetch" => match spin_sdk::http::get(&query).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.into_body().bytes().await.unwrap_or_default();
                text(
                    StatusCode::OK,
                    format!("status {status}\n{}", String::from_utf8_lossy(&body)),
                )
            }
            Err(e) => text(StatusCode::BAD_GATEWAY, format!("denied: {e:?}")),
        },
        "echo" => {
            let body = request.into_body().bytes().await?;
            text(StatusCode::OK, format!("{} bytes", body.len()))
        }
        "stream" => {
            let kib: usize = argument.parse().unwrap_or(1);
            let (mut sender, body) = spin_sdk::http::body::stream::<Vec<u8>>();
            spin_sdk::wasip3::spawn(async move {
                for _ in 0..kib {
                    if sender.send(vec![b'x'; 1024]).await.is_err() {
                        break;
                    }
                }
            });
            http::Response::new(box_body(body))
        }
        "stream-trap" => {
            // Part of a body, then a panic in the task writing it: more chunks than the
            // body's channel holds, so the response head has gone out by then.
            let (mut sender, body) = spin_sdk::http::body::stream::<Vec<u8>>();
            spin_sdk::wasip3::spawn(async move {
                for _ in 0..2048 {
                    if sender.send(vec![b'x'; 1024]).await.is_err() {
                        return;
                    }
                }
                panic!("the probe was asked to trap mid-body");
            });
            http::Response::new(box_body(body))
        }
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "trap" => panic!("the probe was asked to trap"),
        _ => text(StatusCode::NOT_FOUND, format!("no action {action:?}")),
    })
}

async fn key_value(method: &Method, key: &str, request: Request) -> anyhow::Result<Reply> {
    let store = Store::open_default().await?;
    Ok(match *method {
        Method::PUT => {
            let body = request.into_body().bytes().await?;
            store.set(key, &body).await?;
            text(StatusCode::OK, "stored")
        }
        Method::DELETE => {
            store.delete(key).await?;
            text(StatusCode::OK, "deleted")
        }
        _ => match store.get(key).await? {
            Some(value) => text(StatusCode::OK, String::from_utf8_lossy(&value)),
            None if store.exists(key).await? => text(StatusCode::OK, ""),
            None => text(StatusCode::NOT_FOUND, "none"),
        },
    })
}
