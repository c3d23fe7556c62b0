//! What a `200` means, checked at the system-call level: the server runs under `strace`,
//! and every answer to an event is written to its socket only after an `fdatasync` that
//! returned 0 since the previous answer (the event log's group commit).

use probity_e2e::server::{ConfigText, Server, listing};

/// Whether an strace line is an `fdatasync` that completed successfully (whole, or the
/// resumed half of one another thread interrupted).
fn completed_sync(line: &str) -> bool {
    let done = line.trim_end().ends_with("= 0");
    let whole = line.contains("fdatasync(") && !line.contains("<unfinished");
    done && (whole || line.contains("<... fdatasync resumed>"))
}

/// The first child of process `pid` (the program strace started).
fn child_of(pid: u32) -> libc::pid_t {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .expect("read the children of strace");
    children
        .split_whitespace()
        .next()
        .and_then(|child| child.parse().ok())
        .expect("strace has started probity")
}

#[test]
fn every_200_is_written_after_an_fdatasync_of_the_event_log() {
    let trace_dir = tempfile::tempdir().expect("tempdir");
    let trace = trace_dir.path().join("strace.txt");
    let trace_arg = trace.display().to_string();
    let mut server = Server::builder(&ConfigText::new().render())
        .wrapped_in(&[
            "strace",
            "-f",
            "-qq",
            "-s",
            "24",
            "-e",
            "trace=fdatasync,fsync,write,writev,sendto,sendmsg",
            "-o",
            &trace_arg,
            "--",
        ])
        .start();
    let client = server.client();
    // A marker in the trace: what comes before it (start-up, readiness polls) is not
    // looked at.
    client
        .get("/v1/marker-before-the-events")
        .expect_status(404);
    const EVENTS: usize = 25;
    for n in 0..EVENTS {
        client
            .send(&listing(
                &format!("sys-{n}"),
                "2026-11-01T10:00:00Z",
                &format!("L-{n}"),
                "S-1",
                "a plain title",
            ))
            .expect_status(200);
    }
    // SIGTERM probity itself; strace exits with it.
    let probity = child_of(server.pid());
    // SAFETY: kill(2) on a process this test started has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(probity, libc::SIGTERM) }, 0);
    server.wait_for_exit();

    let text = std::fs::read_to_string(&trace).expect("read the trace");
    let lines: Vec<&str> = text.lines().collect();
    let marker = lines
        .iter()
        .position(|line| line.contains("HTTP/1.1 404"))
        .unwrap_or_else(|| panic!("the marker's 404 is in the trace:\n{text}"));
    let mut synced_since_last_answer = false;
    let mut answers = 0;
    for (index, line) in lines.iter().enumerate().skip(marker + 1) {
        if completed_sync(line) {
            synced_since_last_answer = true;
        } else if line.contains("HTTP/1.1 200") {
            assert!(
                synced_since_last_answer,
                "answer {answers} was written with no fdatasync since the previous one:\n{}",
                lines[marker..=index].join("\n")
            );
            synced_since_last_answer = false;
            answers += 1;
        }
    }
    assert_eq!(
        answers, EVENTS,
        "every event's 200 is in the trace:\n{text}"
    );
}
