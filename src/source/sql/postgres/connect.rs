//! Connections to PostgreSQL: the client configuration built from the location (libpq's
//! parameters passed on, recon's own taken out), connecting (with libpq's `prefer`
//! fallback to plain text), the session settings every read uses, and the statements that
//! begin each connection's read-only transaction and join a split to the anchor's
//! exported snapshot (exporting it is `mod.rs`'s probe). TLS is `tls.rs`'s; passwords
//! are `password.rs`'s.

use tokio_postgres::Client;

use super::fault::database_error;
use super::password::password_from_environment;
use super::tls::{self, TlsParameters};
use crate::error::{DatabaseFault, Error, Result};
use crate::source::sql::fault;
use crate::source::sql::location::Location;

/// Opens every connection's transaction: reads only, and one instant for the whole run.
pub(super) const BEGIN: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// The statements that join a split's connection to the snapshot the anchor exported.
pub(super) fn join_snapshot(snapshot: &str) -> String {
    format!("{BEGIN}; SET TRANSACTION SNAPSHOT '{snapshot}'")
}

/// What connects to the server: the client configuration and the TLS connector.
pub(super) struct Connector {
    pub(super) config: tokio_postgres::Config,
    pub(super) tls: tokio_postgres_rustls::MakeRustlsConnect,
}

/// The location's parameters that are not recon's own: TLS ones, and libpq's.
pub(super) struct ConnectParameters {
    tls: TlsParameters,
    /// libpq's connection parameters, as written, handed on to the parser.
    libpq: Vec<String>,
}

impl ConnectParameters {
    /// Sorts the location's other parameters; an encrypted client key is refused.
    pub(super) fn take(location: &Location) -> Result<ConnectParameters> {
        let mut tls = TlsParameters::default();
        let mut libpq = Vec::new();
        for parameter in &location.others {
            let value = || Some(std::path::PathBuf::from(&parameter.value));
            match parameter.name.as_str() {
                "sslmode" => tls.mode = Some(parameter.value.clone()),
                "sslrootcert" => tls.root_cert = value(),
                "sslcert" => tls.client_cert = value(),
                "sslkey" => tls.client_key = value(),
                "sslpassword" => {
                    return Err(Error::Config(format!(
                        "{}: sslpassword (an encrypted client key) is not supported; decrypt the key (openssl pkey -in key.enc -out key) and keep it readable only by you",
                        location.shown
                    )));
                }
                _ => libpq.push(parameter.written.clone()),
            }
        }
        Ok(ConnectParameters { tls, libpq })
    }

    /// The client configuration and TLS connector for `base` (the location before its
    /// `?`); `shown` names the location in errors.
    pub(super) fn connector(self, base: &str, shown: &str) -> Result<Connector> {
        let mut config = self.client_config(base, shown)?;
        let (ssl_mode, tls) = tls::resolve(self.tls, shown)?;
        config.ssl_mode(ssl_mode);
        config.application_name("recon");
        if config.get_password().is_none()
            && let Some(password) = password_from_environment(&config)
        {
            config.password(password);
        }
        Ok(Connector { config, tls })
    }

    fn client_config(&self, base: &str, shown: &str) -> Result<tokio_postgres::Config> {
        let full = if self.libpq.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", self.libpq.join("&"))
        };
        full.parse().map_err(|e| {
            // Name the parameter at fault when one alone is refused.
            let base_parses = base.parse::<tokio_postgres::Config>().is_ok();
            let culprit = self.libpq.iter().filter(|_| base_parses).find(|pair| {
                format!("{base}?{pair}")
                    .parse::<tokio_postgres::Config>()
                    .is_err()
            });
            fault::error(
                shown,
                DatabaseFault::Setup,
                match culprit {
                    Some(pair) => format!(
                        "not a valid connection location: unknown or invalid parameter {:?} (besides libpq's connection parameters, recon reads table, query, where, sslmode, sslrootcert, sslcert and sslkey)",
                        pair.split_once('=').map_or(pair.as_str(), |(k, _)| k)
                    ),
                    None => format!("not a valid connection location: {e}"),
                },
            )
        })
    }
}

/// A connection driven on `runtime`; `shown` names the location in errors.
pub(super) fn connect(
    runtime: &tokio::runtime::Runtime,
    connector: &Connector,
    shown: &str,
) -> Result<Client> {
    let Connector { config, tls } = connector;
    runtime.block_on(async {
        let attempt = config.connect(tls.clone()).await;
        // libpq's `prefer`: a server whose TLS set-up fails is spoken to in plain text.
        let attempt = match attempt {
            Err(e)
                if config.get_ssl_mode() == tokio_postgres::config::SslMode::Prefer
                    && e.to_string().contains("TLS handshake") =>
            {
                let mut plain = config.clone();
                plain.ssl_mode(tokio_postgres::config::SslMode::Disable);
                plain.connect(tls.clone()).await
            }
            other => other,
        };
        let (client, connection) = attempt.map_err(|e| database_error(shown, e))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    })
}

/// UTC, ISO dates, full float precision and hex bytea: the text forms recon reads values
/// in are the same whatever the server's or the role's defaults.
pub(super) async fn session_settings(
    client: &Client,
) -> std::result::Result<(), tokio_postgres::Error> {
    client
        .batch_execute(
            "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; SET LOCAL bytea_output = 'hex'",
        )
        .await
}
