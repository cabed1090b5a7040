//! A throwaway PostgreSQL server for the whole test run: `initdb` into a temp dir, `pg_ctl
//! start` on a free loopback port (as the `postgres` user when we are root: the server refuses
//! to run as root), one fresh database per test, and a watcher process that stops the server
//! and removes its files when the test process exits.
//!
//! `FINCORE_TEST_POSTGRES_URL=postgres://user:pass@host:port` uses an existing server instead
//! (tests create and leave databases named `fincore_test_*`). `FINCORE_REQUIRE_POSTGRES=1`
//! makes an unavailable server a failure instead of a skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

struct Server {
    /// `postgres://user@host:port` without a database name.
    base_url: String,
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    /// Started here, with members of `PASSWORD_GROUP` made to log in with a password.
    throwaway: bool,
}

/// Members of this role must authenticate with SCRAM on the throwaway server (`pg_hba.conf`);
/// everyone else is trusted.
const PASSWORD_GROUP: &str = "fincore_password_users";

static SERVER: OnceLock<Option<Server>> = OnceLock::new();
static NEXT_DATABASE: AtomicU32 = AtomicU32::new(0);

fn required() -> bool {
    std::env::var("FINCORE_REQUIRE_POSTGRES")
        .map(|v| v == "1" || v == "true")
        .unwrap_or(false)
}

pub fn fresh_database() -> Option<String> {
    let server = SERVER.get_or_init(start_or_connect).as_ref()?;
    let name = format!(
        "fincore_test_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::SeqCst)
    );
    psql(server, &format!("CREATE DATABASE {name}"));
    Some(format!("{}/{name}", server.base_url))
}

/// `postgres://user[:password]@host:port/DATABASE` on the test server, without creating it.
pub fn url_for(database: &str) -> Option<String> {
    let server = SERVER.get_or_init(start_or_connect).as_ref()?;
    Some(format!("{}/{database}", server.base_url))
}

/// A login role that must give its password, owning a fresh database. Only on the throwaway
/// server, whose `pg_hba.conf` the harness writes.
pub struct PasswordRole {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
}

impl PasswordRole {
    /// The URL with `password` in it, percent-encoded as URLs require.
    pub fn url_with(&self, password: &str) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.user,
            percent_encode(password),
            self.host,
            self.port,
            self.database
        )
    }
}

pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// None when the server is an external one (`FINCORE_TEST_POSTGRES_URL`) or unavailable.
pub fn password_role(password: &str) -> Option<PasswordRole> {
    let server = SERVER.get_or_init(start_or_connect).as_ref()?;
    if !server.throwaway {
        return None;
    }
    let n = NEXT_DATABASE.fetch_add(1, Ordering::SeqCst);
    let user = format!("fincore_pw_{}_{n}", std::process::id());
    let database = format!("fincore_test_{}_{n}", std::process::id());
    let quoted = password.replace('\'', "''");
    static GROUP: OnceLock<()> = OnceLock::new();
    GROUP.get_or_init(|| {
        psql(
            server,
            &format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{PASSWORD_GROUP}') \
                 THEN CREATE ROLE {PASSWORD_GROUP} NOLOGIN; END IF; END $$"
            ),
        )
    });
    psql(
        server,
        &format!("CREATE ROLE {user} LOGIN PASSWORD '{quoted}' IN ROLE {PASSWORD_GROUP}"),
    );
    psql(server, &format!("CREATE DATABASE {database} OWNER {user}"));
    Some(PasswordRole {
        host: server.host.clone(),
        port: server.port,
        user,
        database,
    })
}

fn psql(server: &Server, sql: &str) {
    let mut command = Command::new("psql");
    command
        .args([
            "-h",
            &server.host,
            "-p",
            &server.port.to_string(),
            "-U",
            &server.user,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qc",
            sql,
        ])
        .stdin(Stdio::null());
    if let Some(password) = &server.password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().expect("psql runs");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn start_or_connect() -> Option<Server> {
    if let Ok(url) = std::env::var("FINCORE_TEST_POSTGRES_URL") {
        return Some(parse_external(&url));
    }
    match start() {
        Ok(server) => Some(server),
        Err(problem) if required() => {
            panic!("FINCORE_REQUIRE_POSTGRES is set but PostgreSQL could not start: {problem}")
        }
        Err(problem) => {
            eprintln!("skipping PostgreSQL tests: {problem}");
            None
        }
    }
}

fn parse_external(url: &str) -> Server {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .expect("postgres://… URL");
    let rest = rest.split('/').next().unwrap_or(rest);
    let (credentials, address) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
    let (user, password) = match credentials.split_once(':') {
        Some((user, password)) => (user.to_string(), Some(password.to_string())),
        None => (credentials.to_string(), None),
    };
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "5432"));
    Server {
        base_url: format!("postgres://{credentials}@{address}"),
        host: host.to_string(),
        port: port.parse().expect("port"),
        user,
        password,
        throwaway: false,
    }
}

fn binaries() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates
        .into_iter()
        .rev()
        .find(|bin| bin.join("pg_ctl").exists())
        .ok_or_else(|| "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install -y postgresql)".into())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Run a server binary, as the `postgres` user when we are root.
fn server_command(bin: &Path, program: &str, root: bool) -> Command {
    let executable = bin.join(program);
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(executable);
        command
    } else {
        Command::new(executable)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn start() -> Result<Server, String> {
    let bin = binaries()?;
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("fincore-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err("chown to the postgres user failed".into());
        }
    }
    let data = dir.join("data");
    let output = server_command(&bin, "initdb", root)
        .args(["-D"])
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // First match wins: members of the password group need SCRAM, everyone else is trusted.
    let hba = data.join("pg_hba.conf");
    let trusted = std::fs::read_to_string(&hba).map_err(|e| format!("pg_hba.conf: {e}"))?;
    std::fs::write(
        &hba,
        format!("host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n{trusted}"),
    )
    .map_err(|e| format!("pg_hba.conf: {e}"))?;
    let port = free_port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        dir.display()
    );
    let status = server_command(&bin, "pg_ctl", root)
        .args(["-D"])
        .arg(&data)
        .args(["-l"])
        .arg(dir.join("log"))
        .args(["-w", "-o", &options, "start"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !status.success() {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        return Err(format!("pg_ctl start failed: {log}"));
    }
    spawn_watcher(&bin, &data, &dir, root);
    Ok(Server {
        base_url: format!("postgres://postgres@127.0.0.1:{port}"),
        host: "127.0.0.1".into(),
        port,
        user: "postgres".into(),
        password: None,
        throwaway: true,
    })
}

/// Stop the server and delete its files once this test process has exited.
fn spawn_watcher(bin: &Path, data: &Path, dir: &Path, root: bool) {
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        format!(
            "runuser -u postgres -- {} -D {} -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "{} -D {} -m immediate stop",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
