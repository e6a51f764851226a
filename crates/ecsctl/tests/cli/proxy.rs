//! Stand-ins for other endpoints: a Huawei-compatible one without ecsd's own API (each request
//! forwarded to ecsd as it is, except that `/ecsd/...` paths answer 404, as they would
//! elsewhere), and one whose every answer is a 503.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// Starts the proxy in front of `upstream` (`127.0.0.1:PORT`); its base URL. It lives as long
/// as the test process (each accepted connection is one request).
pub fn without_events(upstream: &str) -> String {
    start(Some(upstream.to_string()))
}

/// An endpoint that answers every request `503` with an API gateway error body.
pub fn unavailable() -> String {
    start(None)
}

fn start(upstream: Option<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let _ = forward(conn, upstream.as_deref());
            });
        }
    });
    format!("http://{addr}")
}

fn answer(mut out: TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    out.write_all(answer.as_bytes())
}

fn forward(client: TcpStream, upstream: Option<&str>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        // One request per connection, both ways: the client opens a new one for the next.
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        if line == "\r\n" {
            head.push_str("Connection: close\r\n\r\n");
            break;
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let path = head.split_whitespace().nth(1).unwrap_or_default();
    let Some(upstream) = upstream else {
        return answer(
            client,
            "503 Service Unavailable",
            r#"{"error_code":"APIGW.0201","error_msg":"Backend unavailable."}"#,
        );
    };
    if path.starts_with("/ecsd/") {
        let body = r#"{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published."}"#;
        return answer(client, "404 Not Found", body);
    }
    let mut out = client;
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head.as_bytes())?;
    up.write_all(&body)?;
    std::io::copy(&mut up, &mut out)?;
    Ok(())
}
