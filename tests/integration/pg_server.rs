//! A PostgreSQL server for tests: `RECON_TEST_PG_URL` when set, else a throwaway cluster
//! started from the system's binaries (as the `postgres` user when run as root) on a free
//! port, removed when the test process ends. Without either, tests fail and say how to
//! get one: nothing is skipped silently.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

static SERVER: OnceLock<String> = OnceLock::new();

/// The base URL of a server (user, host, port, database), without a table.
pub fn server() -> &'static str {
    SERVER.get_or_init(|| match std::env::var("RECON_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_throwaway(&[], |_| Ok(())).unwrap_or_else(|why| {
            panic!(
                "PostgreSQL tests need a server: set RECON_TEST_PG_URL=postgres://user@host:port/db, or install PostgreSQL (apt-get install postgresql) so a throwaway cluster can start ({why})"
            )
        }),
    })
}

/// Runs SQL against the test server, failing the test on any error.
pub fn sql(statements: &str) {
    sql_at(server(), statements);
}

/// Runs SQL against a given server, failing the test on any error.
pub fn sql_at(url: &str, statements: &str) {
    psql(url, &["-v", "ON_ERROR_STOP=1"], statements);
}

/// Runs a query and returns its unaligned output.
pub fn query(statement: &str) -> String {
    let out = psql(server(), &["-A", "-t"], statement);
    String::from_utf8_lossy(&out).trim().to_string()
}

/// Runs `COPY … TO STDOUT` and returns its output exactly (trailing blanks included).
pub fn copy_out(statement: &str) -> String {
    String::from_utf8(psql(server(), &[], statement)).expect("UTF-8 output")
}

/// psql's standard output for `statement`, failing the test on any error.
fn psql(url: &str, options: &[&str], statement: &str) -> Vec<u8> {
    let output = Command::new("psql")
        .args(["-X", "-q"])
        .args(options)
        .args(["-d", url, "-c", statement])
        .output()
        .expect("psql runs (it comes with PostgreSQL)");
    assert!(
        output.status.success(),
        "SQL failed: {}\n{statement}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A location for a table of the test server.
pub fn table(name: &str) -> String {
    let base = server();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}table={name}")
}

fn find_bin(name: &str) -> Option<std::path::PathBuf> {
    if let Ok(out) = Command::new("which").arg(name).output()
        && out.status.success()
    {
        return Some(String::from_utf8_lossy(&out.stdout).trim().into());
    }
    let mut versions: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("bin").join(name))
        .find(|p| p.exists())
}

static TLS_SERVER: OnceLock<(String, std::path::PathBuf)> = OnceLock::new();

/// A throwaway server that speaks TLS with a certificate for `localhost` and `127.0.0.1`
/// signed by a test authority, and the path of that authority's certificate (to trust it
/// with `sslrootcert`).
pub fn tls_server() -> &'static (String, std::path::PathBuf) {
    TLS_SERVER.get_or_init(|| {
        let mut cert_path = None;
        let url = start_throwaway(&["-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key", "-c", "ssl_ca_file=ca.crt"], |data| {
            // A test CA signs the server's certificate, as in a real deployment: webpki
            // (unlike OpenSSL) refuses a self-signed CA certificate used as a server's.
            let script = "set -e
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=recon-test-ca -keyout ca.key -out ca.crt
                openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
                printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > server.ext
                openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.crt
                openssl req -newkey rsa:2048 -nodes -subj /CN=certuser -keyout client.key -out client.csr
                printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=clientAuth\\n' > client.ext
                openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.crt
                chmod 600 server.key client.key
                printf 'local all all trust\nhostssl all certuser 127.0.0.1/32 cert\nhost all all 127.0.0.1/32 trust\n' > pg_hba.conf";
            let out = Command::new("sh")
                .args(["-c", script])
                .current_dir(data)
                .output()
                .map_err(|e| format!("openssl: {e}"))?;
            if !out.status.success() {
                return Err(format!("openssl failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            // Beside the data directory: removed with it when the tests end.
            let beside = data.parent().expect("a server directory");
            for name in ["client.crt", "client.key"] {
                std::fs::copy(data.join(name), beside.join(name)).map_err(|e| e.to_string())?;
            }
            let copy = beside.join("ca.crt");
            std::fs::copy(data.join("ca.crt"), &copy).map_err(|e| e.to_string())?;
            cert_path = Some(copy);
            Ok(())
        })
        .unwrap_or_else(|why| panic!("TLS tests need PostgreSQL binaries and openssl to start a throwaway TLS server ({why})"));
        (url, cert_path.expect("certificate written"))
    })
}

/// The certificate and key of the role `certuser`, which [`tls_server`] lets in by client
/// certificate only (`hostssl … cert`).
pub fn tls_client_cert() -> (std::path::PathBuf, std::path::PathBuf) {
    let beside = tls_server().1.parent().expect("a server directory");
    (beside.join("client.crt"), beside.join("client.key"))
}

static PASSWORD_SERVER: OnceLock<String> = OnceLock::new();

/// A throwaway server where the role `reader` must log in with the password
/// [`READER_PASSWORD`] (scram-sha-256) over TCP; `postgres` keeps trust to set it up.
/// Its URL is the superuser's.
pub fn password_server() -> &'static str {
    PASSWORD_SERVER.get_or_init(|| {
        let url = start_throwaway(&["-c", "password_encryption=scram-sha-256"], |data| {
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
            )
            .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|why| panic!("password tests need PostgreSQL binaries to start a throwaway server ({why})"));
        sql_at(
            &url,
            &format!("CREATE ROLE reader LOGIN PASSWORD '{READER_PASSWORD}'; CREATE TABLE t(id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b'); GRANT SELECT ON t TO reader;"),
        );
        url
    })
}

pub const READER_PASSWORD: &str = "right-horse-9";

fn start_throwaway(
    extra: &[&str],
    prepare: impl FnOnce(&std::path::Path) -> Result<(), String>,
) -> Result<String, String> {
    let initdb = find_bin("initdb").ok_or("no initdb found")?;
    let postgres = find_bin("postgres").ok_or("no postgres binary found")?;
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let nth = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("recon-pg-{}-{nth}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let root = is_root();
    let as_user = |cmd: &mut Command| {
        if root {
            // initdb and postgres refuse to run as root.
            cmd.run_as_postgres();
        }
    };
    if root {
        let chowned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !chowned.success() {
            return Err(format!("chown postgres {} failed", dir.display()));
        }
    }
    let data = dir.join("data");
    let mut init = Command::new(&initdb);
    init.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "-N",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    as_user(&mut init);
    let out = init.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    prepare(&data)?;
    if root {
        // Files the preparation wrote as root must belong to the server's user.
        let chowned = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&data)
            .status()
            .map_err(|e| e.to_string())?;
        if !chowned.success() {
            return Err(format!("chown postgres {} failed", data.display()));
        }
    }
    let port = free_port()?;
    // The server lives as long as this test process: a shell waits for our stdin to
    // close (when we exit), then stops the server and removes its files.
    let script = format!(
        "{pg} -D {data} -k {dir} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off {extra} >{dir}/log 2>&1 & pid=$!; cat >/dev/null; kill -INT $pid; wait $pid; rm -rf {dir}",
        pg = postgres.display(),
        data = data.display(),
        dir = dir.display(),
        extra = extra.join(" "),
    );
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    as_user(&mut shell);
    let child = shell.spawn().map_err(|e| e.to_string())?;
    // Keep the pipe open for the life of the process.
    std::mem::forget(child.stdin.expect("piped stdin"));
    std::mem::forget(child.stdout);
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    for _ in 0..200 {
        let ok = Command::new("psql")
            .args(["-X", "-q", "-d", &url, "-c", "select 1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Ok(url);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = std::io::stderr().write_all(b"throwaway PostgreSQL did not start\n");
    Err("the throwaway server did not accept connections".into())
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

trait RunAsPostgres {
    fn run_as_postgres(&mut self);
}

impl RunAsPostgres for Command {
    fn run_as_postgres(&mut self) {
        use std::os::unix::process::CommandExt;
        let id = |flag: &str| -> u32 {
            let out = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .expect("id runs");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("a postgres user exists")
        };
        self.uid(id("-u")).gid(id("-g"));
    }
}
