//! Login with OAuth2 / OpenID Connect providers (GitHub, Google, any OIDC issuer).
//!
//! The flow (authorization code with PKCE S256):
//! 1. [`OAuth::begin`] makes the provider's authorization URL with a random `state`, a PKCE
//!    challenge and (OIDC) a `nonce`; the route keeps them in a short-lived private (encrypted and
//!    authenticated) cookie, a [`Pending`] login, bound to this browser.
//! 2. The provider sends the browser back to `<public_url>/auth/<name>/callback` (the exact
//!    redirect URI registered there). The route takes the pending login out of the cookie (so a
//!    state can be used once), compares `state` in constant time, and calls [`OAuth::complete`]:
//!    the code is exchanged with the PKCE verifier; for OIDC the ID token's signature, issuer,
//!    audience, expiry and nonce are verified; for GitHub the user API is read with the token.
//! 3. What to do with the [`ProviderUser`] (log in, link, create an account) is decided by
//!    `services::identities`.
//!
//! The HTTP client follows no redirects (no SSRF through the provider) and has short timeouts;
//! discovery documents are cached for an hour.

pub mod providers;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::reqwest;
use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenUrl,
};
use serde::{Deserialize, Serialize};

pub use crate::error::OAuthError;
pub use providers::{Kind, Provider};

/// How long a started login may take before its callback is refused.
pub const PENDING_MINUTES: i64 = 10;
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);

/// A login in progress, kept in a private cookie between start and callback.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Pending {
    /// Provider name.
    pub provider: String,
    /// The `state` sent to the provider.
    pub state: String,
    /// The OIDC nonce.
    pub nonce: Option<String>,
    /// The PKCE verifier.
    pub verifier: String,
    /// Where to go afterwards (already checked to be a local path).
    pub next: String,
    /// The logged-in user who started it to link an identity, if any.
    pub link_user: Option<i64>,
    /// Unix time after which the callback is refused.
    pub expires: i64,
}

/// Who the provider says the user is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProviderUser {
    /// Provider name.
    pub provider: String,
    /// The provider's stable user id.
    pub subject: String,
    /// Email, if the provider shared one.
    pub email: Option<String>,
    /// Whether the provider vouches for the email.
    pub email_verified: bool,
    /// A username suggestion (`preferred_username`, GitHub login).
    pub username_hint: Option<String>,
}

/// The configured providers and the HTTP client that talks to them.
pub struct OAuth {
    providers: Vec<Provider>,
    public_url: String,
    http: reqwest::Client,
    discovered: Mutex<HashMap<String, (CoreProviderMetadata, Instant)>>,
}

impl OAuth {
    /// The providers configured in `auth` (`oauth_<name>_<field>`), checked; `public_url` is the
    /// site's external base URL.
    pub fn from_config(
        auth: &crate::config::AuthConfig,
        public_url: &str,
    ) -> Result<OAuth, String> {
        OAuth::new(providers::from_settings(&auth.oauth)?, public_url)
    }

    /// Sets up the providers; `public_url` is the site's external base URL.
    pub fn new(providers: Vec<Provider>, public_url: &str) -> Result<OAuth, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("beebeta/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the OAuth HTTP client: {e}"))?;
        for p in &providers {
            RedirectUrl::new(redirect_uri(public_url, &p.name))
                .map_err(|e| format!("OAuth provider {}: bad redirect URI: {e}", p.name))?;
        }
        Ok(OAuth {
            providers,
            public_url: public_url.trim_end_matches('/').to_string(),
            http,
            discovered: Mutex::new(HashMap::new()),
        })
    }

    /// The configured providers, in name order.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// `{name, label}` of each provider, for login buttons.
    pub fn buttons(&self) -> Vec<serde_json::Value> {
        self.providers
            .iter()
            .map(|p| serde_json::json!({"name": p.name, "label": p.label}))
            .collect()
    }

    /// The provider called `name`.
    pub fn provider(&self, name: &str) -> Result<&Provider, OAuthError> {
        self.providers
            .iter()
            .find(|p| p.name == name)
            .ok_or(OAuthError::UnknownProvider)
    }

    fn redirect(&self, p: &Provider) -> RedirectUrl {
        RedirectUrl::new(redirect_uri(&self.public_url, &p.name)).expect("checked in new")
    }

    async fn metadata(&self, p: &Provider) -> Result<CoreProviderMetadata, OAuthError> {
        if let Some((m, at)) = self.discovered.lock().expect("lock").get(&p.name)
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(p.issuer.clone().unwrap_or_default())
            .map_err(|e| OAuthError::Unavailable(format!("bad issuer URL: {e}")))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OAuthError::Unavailable(format!("discovery failed: {}", chain(&e))))?;
        self.discovered
            .lock()
            .expect("lock")
            .insert(p.name.clone(), (m.clone(), Instant::now()));
        Ok(m)
    }

    async fn oidc_client(
        &self,
        p: &Provider,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OAuthError,
    > {
        let m = self.metadata(p).await?;
        Ok(CoreClient::from_provider_metadata(
            m,
            ClientId::new(p.client_id.clone()),
            Some(ClientSecret::new(p.client_secret.expose().to_string())),
        )
        .set_redirect_uri(self.redirect(p)))
    }

    fn oauth2_client(
        &self,
        p: &Provider,
    ) -> Result<
        oauth2::basic::BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        OAuthError,
    > {
        let bad = |e: url::ParseError| OAuthError::Unavailable(format!("bad endpoint URL: {e}"));
        Ok(
            oauth2::basic::BasicClient::new(ClientId::new(p.client_id.clone()))
                .set_client_secret(ClientSecret::new(p.client_secret.expose().to_string()))
                .set_auth_uri(AuthUrl::new(p.auth_url.clone().unwrap_or_default()).map_err(bad)?)
                .set_token_uri(TokenUrl::new(p.token_url.clone().unwrap_or_default()).map_err(bad)?)
                .set_redirect_uri(self.redirect(p)),
        )
    }

    /// Starts a login at provider `name`: the URL to send the browser to, and what to remember.
    pub async fn begin(
        &self,
        name: &str,
        next: String,
        link_user: Option<i64>,
    ) -> Result<(String, Pending), OAuthError> {
        let p = self.provider(name)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = match p.kind {
            Kind::Oidc => {
                let client = self.oidc_client(p).await?;
                let (url, state, nonce) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        CsrfToken::new_random,
                        Nonce::new_random,
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, Some(nonce.secret().clone()))
            }
            Kind::Github => {
                let client = self.oauth2_client(p)?;
                let (url, state) = client
                    .authorize_url(CsrfToken::new_random)
                    .add_scope(Scope::new("read:user".into()))
                    .add_scope(Scope::new("user:email".into()))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, None)
            }
        };
        let pending = Pending {
            provider: p.name.clone(),
            state: state.secret().clone(),
            nonce,
            verifier: verifier.secret().clone(),
            next,
            link_user,
            expires: chrono::Utc::now().timestamp() + PENDING_MINUTES * 60,
        };
        Ok((url.to_string(), pending))
    }

    /// Finishes a login: checks the callback's `state` against the pending login, exchanges the
    /// code and verifies who the user is.
    pub async fn complete(
        &self,
        pending: &Pending,
        state: &str,
        code: &str,
    ) -> Result<ProviderUser, OAuthError> {
        use subtle::ConstantTimeEq;
        let same_state: bool = pending.state.as_bytes().ct_eq(state.as_bytes()).into();
        if !same_state || chrono::Utc::now().timestamp() > pending.expires || code.is_empty() {
            return Err(OAuthError::StateMismatch);
        }
        let p = self.provider(&pending.provider)?;
        let code = AuthorizationCode::new(code.to_string());
        let verifier = PkceCodeVerifier::new(pending.verifier.clone());
        match p.kind {
            Kind::Oidc => {
                let client = self.oidc_client(p).await?;
                let token = client
                    .exchange_code(code)
                    .map_err(|e| OAuthError::Unavailable(e.to_string()))?
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                let id_token = openidconnect::TokenResponse::id_token(&token)
                    .ok_or_else(|| OAuthError::Refused("no ID token in the answer".into()))?;
                let nonce = Nonce::new(pending.nonce.clone().unwrap_or_default());
                let claims = id_token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| OAuthError::Refused(format!("ID token: {e}")))?;
                Ok(ProviderUser {
                    provider: p.name.clone(),
                    subject: claims.subject().as_str().to_string(),
                    email: claims.email().map(|e| e.as_str().to_string()),
                    email_verified: claims.email_verified().unwrap_or(false),
                    username_hint: claims.preferred_username().map(|u| u.as_str().to_string()),
                })
            }
            Kind::Github => {
                let client = self.oauth2_client(p)?;
                let token = client
                    .exchange_code(code)
                    .set_pkce_verifier(verifier)
                    .request_async(&self.http)
                    .await
                    .map_err(token_error)?;
                let resp = self
                    .http
                    .get(p.userinfo_url.clone().unwrap_or_default())
                    .bearer_auth(token.access_token().secret())
                    .header("Accept", "application/vnd.github+json")
                    .send()
                    .await
                    .map_err(|e| OAuthError::Unavailable(format!("user API: {}", chain(&e))))?;
                if !resp.status().is_success() {
                    return Err(OAuthError::Unavailable(format!(
                        "user API answered {}",
                        resp.status()
                    )));
                }
                let body = resp
                    .bytes()
                    .await
                    .map_err(|e| OAuthError::Unavailable(format!("user API: {e}")))?;
                let info: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| OAuthError::Unavailable(format!("user API: {e}")))?;
                github_user(&p.name, &info)
            }
        }
    }
}

/// The callback URL registered at the provider.
pub fn redirect_uri(public_url: &str, provider: &str) -> String {
    format!(
        "{}/auth/{provider}/callback",
        public_url.trim_end_matches('/')
    )
}

/// Reads GitHub's `/user` answer (`id`, `login`, `email`); also accepts the OIDC names (`sub`,
/// `preferred_username`) that GitHub-compatible user APIs use. GitHub does not say whether the
/// public email is verified, so it is treated as unverified.
pub fn github_user(provider: &str, info: &serde_json::Value) -> Result<ProviderUser, OAuthError> {
    let subject = match (info.get("id"), info.get("sub")) {
        (Some(serde_json::Value::Number(n)), _) => n.to_string(),
        (Some(serde_json::Value::String(s)), _) | (None, Some(serde_json::Value::String(s)))
            if !s.is_empty() =>
        {
            s.clone()
        }
        _ => return Err(OAuthError::Refused("the user API gave no user id".into())),
    };
    let text = |k: &str| {
        info.get(k)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(ProviderUser {
        provider: provider.to_string(),
        subject,
        email: text("email"),
        email_verified: false,
        username_hint: text("login").or_else(|| text("preferred_username")),
    })
}

fn token_error<RE, T>(e: oauth2::RequestTokenError<RE, T>) -> OAuthError
where
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
{
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => {
            OAuthError::Refused(format!("token endpoint: {r}"))
        }
        other => OAuthError::Unavailable(format!("token endpoint: {}", chain(&other))),
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_github_users() {
        let u = github_user(
            "github",
            &serde_json::json!({"id": 42, "login": "octo", "email": null}),
        )
        .unwrap();
        assert_eq!(
            (u.subject.as_str(), u.username_hint.as_deref(), u.email),
            ("42", Some("octo"), None)
        );
        let u = github_user(
            "gh",
            &serde_json::json!({"sub": "abc", "preferred_username": "x", "email": "a@b.c"}),
        )
        .unwrap();
        assert_eq!(u.subject, "abc");
        assert!(
            !u.email_verified,
            "GitHub emails are not trusted as verified"
        );
        assert!(github_user("gh", &serde_json::json!({"login": "x"})).is_err());
        assert!(github_user("gh", &serde_json::json!({"sub": ""})).is_err());
    }

    #[test]
    fn redirect_uri_is_exact() {
        assert_eq!(
            redirect_uri("https://beebeta.example/", "google"),
            "https://beebeta.example/auth/google/callback"
        );
    }

    fn pending() -> Pending {
        Pending {
            provider: "corp".into(),
            state: "the-state".into(),
            nonce: Some("n".into()),
            verifier: "v".repeat(43),
            next: "/".into(),
            link_user: None,
            expires: chrono::Utc::now().timestamp() + 60,
        }
    }

    fn oauth() -> OAuth {
        let f = rocket::figment::Figment::new()
            .merge(("oauth_corp_issuer", "http://127.0.0.1:9"))
            .merge(("oauth_corp_client_id", "id"))
            .merge(("oauth_corp_client_secret", "secret"));
        let cfg = crate::config::Config::from_figment(&f).unwrap();
        OAuth::from_config(&cfg.auth, "http://beebeta.test").unwrap()
    }

    #[rocket::async_test]
    async fn refuses_wrong_missing_or_expired_state_before_any_request() {
        let o = oauth();
        let p = pending();
        for (state, code) in [
            ("other", "c"),
            ("", "c"),
            ("the-stat", "c"),
            ("the-state", ""),
        ] {
            assert!(matches!(
                o.complete(&p, state, code).await,
                Err(OAuthError::StateMismatch)
            ));
        }
        let expired = Pending {
            expires: chrono::Utc::now().timestamp() - 1,
            ..pending()
        };
        assert!(matches!(
            o.complete(&expired, "the-state", "c").await,
            Err(OAuthError::StateMismatch)
        ));
        // The right state reaches the provider, which is down here: a clear "unavailable".
        assert!(matches!(
            o.complete(&p, "the-state", "c").await,
            Err(OAuthError::Unavailable(_))
        ));
        assert!(matches!(
            o.begin("nope", "/".into(), None).await,
            Err(OAuthError::UnknownProvider)
        ));
    }
}
