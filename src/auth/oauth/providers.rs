//! OAuth2 / OpenID Connect providers from configuration:
//! `BEEBETA_OAUTH_<NAME>_CLIENT_ID`, `_CLIENT_SECRET`, and for generic OpenID Connect
//! `_ISSUER` (its discovery URL base). `github` and `google` need only the client id and secret;
//! `_KIND` (`oidc` or `github`), `_LABEL`, and `_AUTH_URL` / `_TOKEN_URL` / `_USERINFO_URL`
//! (plain OAuth2) override the defaults.

use std::collections::BTreeMap;

use crate::config::{OAuthSettings, Secret};

/// How a provider identifies users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// OpenID Connect: discovery, ID token (signature, issuer, audience, nonce).
    Oidc,
    /// Plain OAuth2 plus a user-info API (GitHub).
    Github,
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// URL name (`/auth/<name>/start`), lowercase.
    pub name: String,
    /// Button label.
    pub label: String,
    /// Protocol.
    pub kind: Kind,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: Secret,
    /// OIDC issuer (discovery at `<issuer>/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// Plain OAuth2 endpoints.
    pub auth_url: Option<String>,
    /// Plain OAuth2 token endpoint.
    pub token_url: Option<String>,
    /// Plain OAuth2 user-info endpoint.
    pub userinfo_url: Option<String>,
}

/// Checks the providers' settings and fills in the defaults of `github` and `google`.
pub fn from_settings(settings: &[OAuthSettings]) -> Result<Vec<Provider>, String> {
    let raw = settings.iter().map(|p| {
        let fields: BTreeMap<&'static str, String> = p
            .fields
            .iter()
            .map(|(k, v)| (*k, v.expose().to_string()))
            .collect();
        (p.name.clone(), fields)
    });
    raw.map(|(name, mut f)| {
        let kind = match f.get("kind").map(String::as_str) {
            Some("oidc") => Kind::Oidc,
            Some("github") => Kind::Github,
            Some(other) => {
                return Err(format!("OAuth provider {name}: unknown kind `{other}`"));
            }
            None if name == "github" => Kind::Github,
            None => Kind::Oidc,
        };
        let issuer = f
            .remove("issuer")
            .or_else(|| (name == "google").then(|| "https://accounts.google.com".into()));
        let (auth_url, token_url, userinfo_url) = match kind {
            Kind::Github => (
                Some(
                    f.remove("auth_url")
                        .unwrap_or_else(|| "https://github.com/login/oauth/authorize".into()),
                ),
                Some(
                    f.remove("token_url")
                        .unwrap_or_else(|| "https://github.com/login/oauth/access_token".into()),
                ),
                Some(
                    f.remove("userinfo_url")
                        .unwrap_or_else(|| "https://api.github.com/user".into()),
                ),
            ),
            Kind::Oidc => (None, None, None),
        };
        if kind == Kind::Oidc && issuer.is_none() {
            return Err(format!(
                "OAuth provider {name}: set BEEBETA_OAUTH_{}_ISSUER",
                name.to_uppercase()
            ));
        }
        let client_id = f
            .remove("client_id")
            .ok_or_else(|| format!("OAuth provider {name}: client_id is missing"))?;
        let client_secret = f
            .remove("client_secret")
            .ok_or_else(|| format!("OAuth provider {name}: client_secret is missing"))?;
        let label = f.remove("label").unwrap_or_else(|| match name.as_str() {
            "github" => "GitHub".into(),
            "google" => "Google".into(),
            other => {
                let mut c = other.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
        });
        Ok(Provider {
            name,
            label,
            kind,
            client_id,
            client_secret: Secret::new(client_secret),
            issuer,
            auth_url,
            token_url,
            userinfo_url,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rocket::figment::Figment;

    /// The providers of these settings, read as the app reads them.
    fn from_layers(pairs: &[(&str, &str)]) -> Result<Vec<Provider>, String> {
        let mut f = Figment::new();
        for (k, v) in pairs {
            f = f.merge((*k, *v));
        }
        from_settings(&crate::config::Config::from_figment(&f)?.auth.oauth)
    }

    #[test]
    fn reads_providers() {
        let p = from_layers(&[
            ("oauth_github_client_id", "gh-id"),
            ("oauth_github_client_secret", "gh-secret"),
            ("oauth_google_client_id", "g-id"),
            ("oauth_google_client_secret", "g-secret"),
            ("oauth_corp-sso_issuer", "https://sso.example.com"),
            ("oauth_corp-sso_client_id", "c"),
            ("oauth_corp-sso_client_secret", "s"),
            ("database_url", "x"),
        ])
        .unwrap();
        assert_eq!(p.len(), 3);
        let gh = p.iter().find(|p| p.name == "github").unwrap();
        assert_eq!(gh.kind, Kind::Github);
        assert_eq!(
            gh.userinfo_url.as_deref(),
            Some("https://api.github.com/user")
        );
        let g = p.iter().find(|p| p.name == "google").unwrap();
        assert_eq!(
            (g.kind, g.issuer.as_deref()),
            (Kind::Oidc, Some("https://accounts.google.com"))
        );
        let c = p.iter().find(|p| p.name == "corp-sso").unwrap();
        assert_eq!(c.label, "Corp-sso");
        assert_eq!(format!("{:?}", c.client_secret), "Secret(***)");
    }

    #[test]
    fn refuses_incomplete_providers() {
        assert!(
            from_layers(&[("oauth_x_client_id", "a"), ("oauth_x_client_secret", "b")]).is_err(),
            "no issuer"
        );
        assert!(
            from_layers(&[("oauth_github_client_id", "a")]).is_err(),
            "no secret"
        );
        assert!(
            from_layers(&[("oauth_github_colour", "a")]).is_err(),
            "unknown field"
        );
    }
}
