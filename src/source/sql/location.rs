//! Where a SQL source is, as the user wrote it: the database its scheme names, the
//! parameters recon reads itself (`table`, `query`, `where`) set apart from those meant
//! for the database's client, and the form recon prints, with passwords hidden. It knows
//! no database's connection parameters and checks no SQL: `relation.rs` and each
//! database's folder do.

use crate::error::{Error, Result};

/// The databases a location can name, whether or not this build can read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// `postgres://` or `postgresql://`.
    Postgres,
}

impl Database {
    /// The database a location names by its scheme (any case), if any.
    pub fn of(uri: &str) -> Option<Database> {
        let lower = uri.get(..13).unwrap_or(uri).to_ascii_lowercase();
        (lower.starts_with("postgres://") || lower.starts_with("postgresql://"))
            .then_some(Database::Postgres)
    }

    /// The name users know it by.
    pub fn name(self) -> &'static str {
        match self {
            Database::Postgres => "PostgreSQL",
        }
    }
}

/// A database location taken apart.
#[derive(Debug, Clone)]
pub struct Location {
    /// The location as recon prints it, passwords hidden.
    pub shown: String,
    /// Everything before the `?`: what the client connects to.
    pub base: String,
    /// `table=`, decoded.
    pub table: Option<String>,
    /// `query=`, decoded.
    pub query: Option<String>,
    /// `where=` (the row filter), decoded.
    pub filter: Option<String>,
    /// The other parameters in the order given: the database client's.
    pub others: Vec<Parameter>,
}

/// A parameter of a location that recon does not read itself.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Its name, as written.
    pub name: String,
    /// Its value, percent-decoded.
    pub value: String,
    /// `name=value` as written, to hand on to the client undecoded.
    pub written: String,
}

impl Location {
    /// Takes `uri` apart. A parameter given twice is refused: the last would silently win
    /// (`table=a&table=b` compared only b).
    pub fn parse(uri: &str) -> Result<Location> {
        let shown = redact(uri);
        let (base, params) = uri.split_once('?').unwrap_or((uri, ""));
        let mut location = Location {
            shown,
            base: base.to_string(),
            table: None,
            query: None,
            filter: None,
            others: Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        for pair in params.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !seen.insert(name) {
                return Err(Error::Config(format!(
                    "{} gives {name} twice; give it once",
                    location.shown
                )));
            }
            let value = percent_decode(value);
            match name {
                "table" => location.table = Some(value),
                "query" => location.query = Some(value),
                "where" => location.filter = Some(value),
                _ => location.others.push(Parameter {
                    name: name.to_string(),
                    value,
                    written: pair.to_string(),
                }),
            }
        }
        Ok(location)
    }
}

/// The location with any password replaced: what recon prints. Credentials end at the
/// first `@` (as connection parsers read them, so a `/` or `?` in a password is still
/// hidden); a parameter whose name ends in `password` is hidden too.
pub fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_string();
    };
    let rest = match rest.split_once('@') {
        Some((user_info, after)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{after}"),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|part| match part.split_once('=') {
                    // `password`, and `sslpassword` (a client key's passphrase).
                    Some((k, _))
                        if percent_decode(k).to_ascii_lowercase().ends_with("password") =>
                    {
                        format!("{k}=***")
                    }
                    _ => part.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
}

/// `%XX` escapes decoded; a `%` not followed by two hex digits is kept as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/crm?table=t"),
            "postgres://app:***@db:5432/crm?table=t"
        );
        assert_eq!(
            redact("postgresql://db/crm?password=s3cret&table=t"),
            "postgresql://db/crm?password=***&table=t"
        );
        assert_eq!(redact("postgres://app@db/crm"), "postgres://app@db/crm");
        assert_eq!(
            redact("postgres://db/crm?sslpassword=k3y&table=t"),
            "postgres://db/crm?sslpassword=***&table=t"
        );
        assert_eq!(
            redact("postgres://u:Sup3r/Secret+k=@h:5432/db?table=t"),
            "postgres://u:***@h:5432/db?table=t"
        );
        assert_eq!(redact("postgres://u:a?b@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://h/db?pass%77ord=x"),
            "postgres://h/db?pass%77ord=***"
        );
    }

    #[test]
    fn schemes_name_their_database_in_any_case() {
        assert_eq!(Database::of("Postgres://h/db"), Some(Database::Postgres));
        assert_eq!(Database::of("postgresql://h/db"), Some(Database::Postgres));
        assert_eq!(Database::of("orders.csv"), None);
        assert_eq!(Database::of("post"), None);
    }

    #[test]
    fn own_parameters_are_decoded_and_the_others_kept_as_written() {
        let location =
            Location::parse("postgres://u:pw@h/db?table=a%20b&sslmode=require&x=%41").unwrap();
        assert_eq!(
            location.shown,
            "postgres://u:***@h/db?table=a%20b&sslmode=require&x=%41"
        );
        assert_eq!(location.base, "postgres://u:pw@h/db");
        assert_eq!(location.table.as_deref(), Some("a b"));
        let others: Vec<_> = location
            .others
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str(), p.written.as_str()))
            .collect();
        assert_eq!(
            others,
            [
                ("sslmode", "require", "sslmode=require"),
                ("x", "A", "x=%41")
            ]
        );
    }

    #[test]
    fn a_parameter_given_twice_is_refused_without_the_password() {
        let error = Location::parse("postgres://u:pw@h/db?table=a&table=b")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "postgres://u:***@h/db?table=a&table=b gives table twice; give it once"
        );
    }

    #[test]
    fn percent_escapes_decode_and_stray_percents_stay() {
        assert_eq!(percent_decode("a%3Db%2"), "a=b%2");
        assert_eq!(percent_decode("%zz%"), "%zz%");
    }
}
