//! The real servers the project tests against are all there, and are the
//! versions the docs say: a missing install step fails here, under
//! `REQUIRE_REDIS=1`, rather than silently thinning other tests.

use rdbscope_testkit::oracle::Oracle;
use std::process::Command;

#[test]
fn every_oracle_server_and_checker_runs_and_has_its_version() {
    for oracle in Oracle::ALL {
        let Some(server) = oracle.server("every_oracle_server_and_checker_runs") else {
            continue;
        };
        let out = Command::new(&server).arg("--version").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("v={}", oracle.version())),
            "{}: {text}",
            server.display()
        );
        // The checkers are the same binary under another name: given no
        // file, each prints its own usage line.
        for checker in [
            oracle.check_rdb("every_oracle_server_and_checker_runs"),
            oracle.check_aof("every_oracle_server_and_checker_runs"),
        ]
        .into_iter()
        .flatten()
        {
            let out = Command::new(&checker).output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains("Usage"), "{}: {text}", checker.display());
        }
    }
}
