//! A private memcached child process per test, killed by PID when the test ends, even on panic.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub(super) struct MemcachedProcess {
    child: Option<Child>,
    pub port: u16,
}

/// A port nothing listens on right now (bound to 127.0.0.1:0, then released).
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl MemcachedProcess {
    pub fn start() -> MemcachedProcess {
        MemcachedProcess::start_on(free_port())
    }

    /// Starts `memcached -l 127.0.0.1 -p <port> -U 0 -m 16` and waits until it accepts.
    pub fn start_on(port: u16) -> MemcachedProcess {
        let child = Command::new("memcached")
            .args([
                "-l",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "0",
                "-m",
                "16",
            ])
            // Ignored unless run as root, which memcached refuses without it.
            .args(["-u", "nobody"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the memcached binary (apt-get install memcached)");
        let mut server = MemcachedProcess {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("memcached on port {port} exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "memcached did not listen on {port}"
            );
            thread::sleep(Duration::from_millis(5));
        }
        server
    }

    pub fn url(&self) -> String {
        format!("memcache://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("memcached is running").id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    /// SIGSTOP: the kernel still accepts connections and buffers requests, nothing answers.
    /// Returns once every thread is stopped (delivery is asynchronous; under load a worker
    /// could otherwise still answer the next request).
    pub fn freeze(&self) {
        self.signal("-STOP");
        let tasks = format!("/proc/{}/task", self.pid());
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let all_stopped = std::fs::read_dir(&tasks).unwrap().all(|task| {
                let stat = std::fs::read_to_string(task.unwrap().path().join("stat"));
                // The state follows the parenthesised command name: "pid (comm) T ...".
                stat.is_ok_and(|s| {
                    s.rsplit_once(") ")
                        .is_some_and(|(_, rest)| rest.starts_with('T'))
                })
            });
            if all_stopped {
                return;
            }
            assert!(Instant::now() < deadline, "memcached did not stop");
            thread::sleep(Duration::from_millis(1));
        }
    }

    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MemcachedProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
