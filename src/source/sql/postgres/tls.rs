//! TLS for PostgreSQL connections through rustls, with libpq's meanings: `sslmode`
//! (disable, prefer, require, verify-ca, verify-full), the authority from `sslrootcert`,
//! `PGSSLROOTCERT` or `~/.postgresql/root.crt` (else the Mozilla roots), and client
//! certificates from `sslcert`/`sslkey`, `PGSSLCERT`/`PGSSLKEY` or `~/.postgresql`. It
//! does not connect: `connect.rs` does.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_postgres::config::SslMode;

use crate::error::{DatabaseFault, Error, Result};
use crate::source::sql::fault;

/// The location's TLS parameters, before the environment and defaults fill them in.
#[derive(Debug, Default)]
pub(super) struct TlsParameters {
    /// `sslmode`.
    pub(super) mode: Option<String>,
    /// `sslrootcert`.
    pub(super) root_cert: Option<PathBuf>,
    /// `sslcert`.
    pub(super) client_cert: Option<PathBuf>,
    /// `sslkey`.
    pub(super) client_key: Option<PathBuf>,
}

/// The client's TLS mode and connector for `given`; `shown` names the location in errors.
pub(super) fn resolve(
    given: TlsParameters,
    shown: &str,
) -> Result<(SslMode, tokio_postgres_rustls::MakeRustlsConnect)> {
    // As in libpq: the URI, else PGSSLMODE / PGSSLROOTCERT, else prefer; `require` with a
    // root certificate verifies the chain.
    let mode = match given.mode.or_else(|| std::env::var("PGSSLMODE").ok()) {
        None => TlsMode::Prefer,
        Some(text) => TlsMode::parse(&text).ok_or_else(|| {
            Error::Config(format!(
                "{shown}: sslmode {text:?} must be disable, prefer, require, verify-ca or verify-full"
            ))
        })?,
    };
    let root_cert = given
        .root_cert
        .or_else(|| std::env::var_os("PGSSLROOTCERT").map(Into::into))
        .or_else(default_root_cert);
    let mode = match (mode, &root_cert) {
        (TlsMode::Require, Some(_)) => TlsMode::VerifyCa,
        (TlsMode::VerifyCa, None) => {
            return Err(Error::Config(format!(
                "{shown}: sslmode=verify-ca needs sslrootcert=/path/to/root.crt, or ~/.postgresql/root.crt (the authority that signed the server's certificate); verify-full without it trusts the public web authorities"
            )));
        }
        (mode, _) => mode,
    };
    let ssl_mode = match mode {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        _ => SslMode::Require,
    };
    let client = if mode == TlsMode::Disable {
        None
    } else {
        client_certificate(given.client_cert, given.client_key, shown)?
    };
    let tls = tls_connector(mode, root_cert.as_deref(), client.as_ref())
        .map_err(|message| fault::error(shown, DatabaseFault::Setup, message))?;
    Ok((ssl_mode, tls))
}

/// The client certificate and key, as in libpq: the URI, else PGSSLCERT / PGSSLKEY, else
/// `~/.postgresql/postgresql.crt` and `.key` when they exist. Presented only when the
/// server asks for one, and never looked for without TLS.
fn client_certificate(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    shown: &str,
) -> Result<Option<(PathBuf, PathBuf)>> {
    let from = |given: Option<PathBuf>, variable: &str, file: &str| {
        given
            .or_else(|| std::env::var_os(variable).map(Into::into))
            .or_else(|| home_file(file))
    };
    match (
        from(cert, "PGSSLCERT", "postgresql.crt"),
        from(key, "PGSSLKEY", "postgresql.key"),
    ) {
        (Some(cert), Some(key)) => Ok(Some((cert, key))),
        (None, None) => Ok(None),
        (Some(cert), None) => Err(Error::Config(format!(
            "{shown}: the client certificate {} (from sslcert, PGSSLCERT or ~/.postgresql) has no key: give sslkey=/path/to/postgresql.key",
            cert.display()
        ))),
        (None, Some(key)) => Err(Error::Config(format!(
            "{shown}: the client key {} (from sslkey, PGSSLKEY or ~/.postgresql) has no certificate: give sslcert=/path/to/postgresql.crt",
            key.display()
        ))),
    }
}

/// libpq's default authority file, `~/.postgresql/root.crt`, when it exists.
fn default_root_cert() -> Option<PathBuf> {
    home_file("root.crt")
}

/// `~/.postgresql/<name>`, when it exists.
fn home_file(name: &str) -> Option<PathBuf> {
    let path = std::path::Path::new(&std::env::var_os("HOME")?)
        .join(".postgresql")
        .join(name);
    path.is_file().then_some(path)
}

/// How a connection uses TLS, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TlsMode {
    /// Never.
    Disable,
    /// When the server offers it, without checking its certificate.
    Prefer,
    /// Always, without checking the certificate.
    Require,
    /// Always, with a certificate signed by a trusted authority.
    VerifyCa,
    /// Always, with a trusted certificate for the host connected to.
    VerifyFull,
}

impl TlsMode {
    /// The mode `sslmode` names (`allow` is read as `prefer`).
    pub(super) fn parse(text: &str) -> Option<TlsMode> {
        Some(match text {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }
}

/// The rustls connector for a mode; trusted roots come from `sslrootcert` or, without
/// it, the Mozilla root set.
fn tls_connector(
    mode: TlsMode,
    root_cert: Option<&std::path::Path>,
    client: Option<&(PathBuf, PathBuf)>,
) -> std::result::Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls_pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                roots.add(cert).map_err(|e| {
                    format!(
                        "sslrootcert {} holds an unusable certificate: {e}",
                        path.display()
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "sslrootcert {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                ));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?;
    let builder = match mode {
        TlsMode::VerifyFull => builder.with_root_certificates(roots),
        TlsMode::VerifyCa => {
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| format!("TLS set-up failed: {e}"))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(IgnoreHostName(inner)))
        }
        TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider))),
    };
    let config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = rustls_pki_types::CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read sslcert {}: {e}", cert.display()))?;
            if chain.is_empty() {
                return Err(format!(
                    "sslcert {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    cert.display()
                ));
            }
            // The parser's own message may quote the file's lines: it is not shown.
            let key_der = rustls_pki_types::PrivateKeyDer::from_pem_file(key).map_err(|_| {
                format!(
                    "cannot read sslkey {} as an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC); an encrypted key can be decrypted with openssl pkey -in key.enc -out key",
                    key.display()
                )
            })?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                format!(
                    "cannot use the client certificate sslcert {} with sslkey {}: {e}",
                    cert.display(),
                    key.display()
                )
            })?
        }
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// `sslmode=prefer/require`: encrypted, but the certificate is not checked (libpq's
/// meaning of these modes). Signatures are still verified.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls_pki_types::CertificateDer<'_>,
        _: &[rustls_pki_types::CertificateDer<'_>],
        _: &rustls_pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `sslmode=verify-ca`: a certificate chain to a trusted root, for any host name.
#[derive(Debug)]
struct IgnoreHostName(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for IgnoreHostName {
    fn verify_server_cert(
        &self,
        end_entity: &rustls_pki_types::CertificateDer<'_>,
        intermediates: &[rustls_pki_types::CertificateDer<'_>],
        server_name: &rustls_pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_modes_parse_as_in_libpq_and_unknown_ones_are_refused() {
        assert_eq!(TlsMode::parse("verify-full"), Some(TlsMode::VerifyFull));
        assert_eq!(TlsMode::parse("allow"), Some(TlsMode::Prefer));
        assert_eq!(TlsMode::parse("Require"), None);
    }
}
