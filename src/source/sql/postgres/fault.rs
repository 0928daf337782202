//! tokio-postgres errors as recon's: the server's own message with its detail and hint, or
//! the client's chain of causes with what to check, and the [`DatabaseFault`] a caller
//! acts on (the SQLSTATE kept). The faults every SQL source shares are in `sql/fault.rs`.

use crate::error::{DatabaseFault, Error};
use crate::source::sql::fault;

/// A tokio-postgres error at `shown` (the location, password hidden).
pub(super) fn database_error(shown: &str, error: tokio_postgres::Error) -> Error {
    let (fault, message) = match error.as_db_error() {
        Some(db) => {
            let mut m = format!("the server says: {}", db.message());
            if let Some(detail) = db.detail() {
                m.push_str(&format!(" ({detail})"));
            }
            if let Some(hint) = db.hint() {
                m.push_str(&format!("; hint: {hint}"));
            }
            (server_fault(db.code().code()), m)
        }
        None => {
            let mut m = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(s) = source {
                m.push_str(&format!(": {s}"));
                source = s.source();
            }
            let fault = client_fault(&error, &m);
            if m.contains("Connection refused") || m.contains("error connecting") {
                m.push_str(fault::UNREACHABLE_HINT);
            } else if m.contains("password missing") {
                m.push_str(
                    " (the server asks for a password: put it in the URI, PGPASSWORD or ~/.pgpass)",
                );
            } else if m.contains("invalid peer certificate") {
                m.push_str(" (with sslmode=verify-ca or verify-full, pass the authority that signed the server's certificate as sslrootcert=/path/to/root.crt)");
            } else if m.contains("server does not support TLS") {
                m.push_str(" (the server has ssl=off: use sslmode=prefer or disable on a trusted network, or turn TLS on at the server)");
            }
            (fault, m)
        }
    };
    fault::error(shown, fault, message)
}

/// The fault of an error the server reported: class 28 is a refused login.
fn server_fault(sqlstate: &str) -> DatabaseFault {
    if sqlstate.starts_with("28") {
        DatabaseFault::Authentication
    } else {
        DatabaseFault::Server {
            sqlstate: sqlstate.to_string(),
        }
    }
}

/// The fault of an error the client raised, from its kind (its own text, without causes)
/// and the whole chain of causes in `text`.
fn client_fault(error: &tokio_postgres::Error, text: &str) -> DatabaseFault {
    if error.is_closed() {
        return DatabaseFault::ConnectionLost;
    }
    match error.to_string().as_str() {
        "error communicating with the server" => DatabaseFault::ConnectionLost,
        "error connecting to server" | "timeout waiting for server" => DatabaseFault::Connect,
        "error performing TLS handshake" => DatabaseFault::Tls,
        "authentication error" => DatabaseFault::Authentication,
        "invalid configuration" if text.contains("password missing") => {
            DatabaseFault::Authentication
        }
        "invalid configuration" | "invalid connection string" => DatabaseFault::Setup,
        _ => DatabaseFault::Decode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_logins_are_authentication_faults_and_other_codes_are_kept() {
        assert_eq!(server_fault("28P01"), DatabaseFault::Authentication);
        assert_eq!(
            server_fault("40001"),
            DatabaseFault::Server {
                sqlstate: "40001".into()
            }
        );
    }
}
