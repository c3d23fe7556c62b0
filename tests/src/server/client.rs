//! HTTP to a server: [`Client`], which never treats a 4xx/5xx status as an error, and
//! [`Reply`], every answer with its status, headers and JSON body, and the assertions on
//! it (status, RFC 9457 problems).

use std::io::Read;
use std::time::Duration;

use serde_json::Value;

/// One HTTP answer: any status, the headers (names lowercase), the body as text and as
/// JSON (`Value::Null` when it is not JSON).
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Every header, name lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body as (lossy) text.
    pub text: String,
    /// The body as JSON, or `Null`.
    pub body: Value,
}

impl Reply {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Assert the status is `status`, showing the whole answer if not.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "expected status {status}, got {}: {}",
            self.status, self.text
        );
        self
    }

    /// The body after asserting a `200`.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        self.expect_status(200);
        &self.body
    }

    /// Assert this is an RFC 9457 problem `urn:probity:problem:<slug>` with `status`: the
    /// content type, `type`, `status`, a `title`, a `detail` and the `request_id` of the
    /// `x-request-id` header. Returns the problem.
    #[track_caller]
    pub fn problem(&self, status: u16, slug: &str) -> &Value {
        self.expect_status(status);
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/problem+json"),
            "a problem must be application/problem+json, got `{content_type}`: {}",
            self.text
        );
        let p = &self.body;
        assert_eq!(
            p["type"],
            format!("urn:probity:problem:{slug}"),
            "problem type: {}",
            self.text
        );
        assert_eq!(p["status"], status, "problem status: {}", self.text);
        assert!(
            p["title"].as_str().is_some_and(|t| !t.is_empty()),
            "problem title: {}",
            self.text
        );
        assert!(
            p["detail"].as_str().is_some_and(|t| !t.is_empty()),
            "problem detail: {}",
            self.text
        );
        let request_id = self.header("x-request-id");
        assert!(request_id.is_some(), "no x-request-id on {}", self.text);
        assert_eq!(
            p["request_id"].as_str(),
            request_id,
            "problem request_id vs x-request-id header: {}",
            self.text
        );
        p
    }
}

/// A cloneable, thread-safe HTTP client for one server address; never treats a status
/// as an error.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Client {
    /// A client for `base` (`http://127.0.0.1:PORT`) without a token.
    pub fn new(base: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            // A fresh connection per request: no stale pooled connection after a kill.
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build();
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent,
            token: None,
        }
    }

    /// This client sending `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any request; `body` is sent as is (no content type unless in `headers`). A
    /// transport failure (refused, reset, timed out) is an `Err`.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, String> {
        let mut request = self.agent.request(method, &self.url(path));
        if let Some(token) = &self.token {
            request = request.set("authorization", &format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let result = match body {
            Some(body) => request.send_bytes(body),
            None => request.call(),
        };
        let response = match result {
            Ok(response) => response,
            Err(ureq::Error::Status(_, response)) => response,
            Err(ureq::Error::Transport(transport)) => return Err(transport.to_string()),
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .flat_map(|name| {
                response
                    .all(&name)
                    .into_iter()
                    .map(|v| (name.to_ascii_lowercase(), v.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(64 << 20)
            .read_to_end(&mut bytes)
            .map_err(|err| format!("reading the body: {err}"))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            text,
            body,
        })
    }

    /// Any request; panics on a transport failure.
    #[track_caller]
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        match self.try_request(method, path, headers, body) {
            Ok(reply) => reply,
            Err(err) => panic!("{method} {path}: {err}"),
        }
    }

    /// `GET path`.
    #[track_caller]
    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], None)
    }

    /// `POST path` with a JSON body.
    #[track_caller]
    pub fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        )
    }

    /// `POST path` without a body.
    #[track_caller]
    pub fn post_empty(&self, path: &str) -> Reply {
        self.request("POST", path, &[], Some(b""))
    }

    /// `POST /v1/events` with one event.
    #[track_caller]
    pub fn send(&self, event: &Value) -> Reply {
        self.post_json("/v1/events", event)
    }

    /// `POST /v1/events` with one event; `Err` on a transport failure.
    pub fn try_send(&self, event: &Value) -> Result<Reply, String> {
        self.try_request(
            "POST",
            "/v1/events",
            &[("content-type", "application/json")],
            Some(event.to_string().as_bytes()),
        )
    }

    /// `POST /v1/events` with an NDJSON batch.
    #[track_caller]
    pub fn send_ndjson(&self, body: &str) -> Reply {
        self.request(
            "POST",
            "/v1/events",
            &[("content-type", "application/x-ndjson")],
            Some(body.as_bytes()),
        )
    }

    /// `GET /v1/verdicts/{kind}/{id}`.
    #[track_caller]
    pub fn verdict(&self, kind: &str, id: &str) -> Reply {
        self.get(&format!("/v1/verdicts/{kind}/{id}"))
    }

    /// The entry of plugin `name` in `GET /v1/plugins` (panics if missing).
    #[track_caller]
    pub fn plugin(&self, name: &str) -> Value {
        let reply = self.get("/v1/plugins");
        let plugins = reply.ok()["plugins"]
            .as_array()
            .unwrap_or_else(|| panic!("no plugins array: {}", reply.text));
        plugins
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no plugin `{name}` in {}", reply.text))
            .clone()
    }
}
