//! A server's console output: what its guest wrote to the serial console (QEMU's serial log;
//! the simulated driver's synthetic boot log), its last lines.

use super::server_of;
use crate::caller::Caller;
use crate::context::App;
use ecs_model::Error;
use ecs_types::nics::{ConsoleOutput, ConsoleOutputQuery};

/// Lines answered when the request names no `length` (the SDK's documented default).
const DEFAULT_LINES: i64 = 50;

/// The last `n` lines of `text` (`-1`: all of it).
fn last_lines(text: &str, n: i64) -> String {
    if n < 0 {
        return text.to_string();
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let from = lines.len().saturating_sub(usize::try_from(n).unwrap_or(usize::MAX));
    lines[from..].concat()
}

/// `GET /v1/{project_id}/cloudservers/{server_id}/console-output`.
pub async fn output(
    app: &App,
    caller: &Caller,
    server_id: &str,
    q: &ConsoleOutputQuery,
) -> Result<ConsoleOutput, Error> {
    let n = q.length.unwrap_or(DEFAULT_LINES);
    if n < -1 {
        return Err(Error::invalid(format!("length {n} is invalid: at least -1 (-1: the whole log).")));
    }
    let row = server_of(app, &caller.project_id, server_id).await?;
    let text = app.ctx.driver.console_output(&row.server.id).await.map_err(|e| Error::internal(e.message))?;
    Ok(ConsoleOutput { output: last_lines(&text.unwrap_or_default(), n) })
}

#[cfg(test)]
mod tests {
    use super::last_lines;

    #[test]
    fn the_last_lines_are_kept_whole() {
        let t = "a\nb\nc\n";
        assert_eq!(last_lines(t, 2), "b\nc\n");
        assert_eq!(last_lines(t, 0), "");
        assert_eq!(last_lines(t, 10), t);
        assert_eq!(last_lines(t, -1), t);
        assert_eq!(last_lines("a\nunfinished", 1), "unfinished");
    }
}
