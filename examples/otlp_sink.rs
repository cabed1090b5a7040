//! A live OTLP receiver for `scripts/bench-telemetry.sh`: the test suite's receiver (gRPC and
//! HTTP/protobuf), run as a process. Prints `grpc=ADDR http=ADDR` on its first line, then
//! keeps `spans=N points=M` up to date in the file named by its first argument, until killed.
//!
//! `cargo run --release --example otlp_sink -- /tmp/sink-stats`

#[allow(dead_code)]
#[path = "../tests/cli/support/otlp.rs"]
mod otlp;

use otlp::{Protocol, Receiver};
use std::io::Write;
use std::time::Duration;

fn main() {
    let stats = std::env::args().nth(1);
    let receiver = Receiver::start();
    println!(
        "grpc={} http={}",
        receiver.endpoint(Protocol::Grpc),
        receiver.endpoint(Protocol::HttpProtobuf)
    );
    let _ = std::io::stdout().flush();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(path) = &stats {
            let line = format!(
                "spans={} points={}\n",
                receiver.spans().len(),
                receiver.points().len()
            );
            let _ = std::fs::write(path, line);
        }
    }
}
