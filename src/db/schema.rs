// Diesel schema shared by both backends (written to match migrations/{mysql,sqlite}).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        role -> Text,
        created_at -> Timestamp,
        banned_at -> Nullable<Timestamp>,
        email_verified_at -> Nullable<Timestamp>,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
        authenticated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        hint -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        scopes -> Text,
    }
}

diesel::table! {
    pending_signups (id) {
        id -> Text,
        username -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        provider -> Nullable<Text>,
        subject -> Nullable<Text>,
        provider_email -> Nullable<Text>,
        next -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    security_events (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        detail -> Nullable<Text>,
        network -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Text,
        user_id -> BigInt,
        purpose -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identities (id) {
        id -> BigInt,
        user_id -> BigInt,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
        verified_when_linked -> Bool,
    }
}

diesel::table! {
    questions (id) {
        id -> BigInt,
        author_id -> Nullable<BigInt>,
        title -> Text,
        slug -> Text,
        description -> Nullable<Text>,
        kind -> Text,
        min_choices -> Integer,
        max_choices -> Integer,
        results_visibility -> Text,
        protection -> Text,
        vote_count -> BigInt,
        hot_rank -> Double,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closes_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        hidden_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
        image_id -> Nullable<Text>,
        author_deleted -> Bool,
        breakdowns -> Bool,
    }
}

diesel::table! {
    choices (id) {
        id -> BigInt,
        question_id -> BigInt,
        position -> Integer,
        label -> Text,
        image_id -> Nullable<Text>,
    }
}

diesel::table! {
    media (id) {
        id -> Text,
        owner_id -> Nullable<BigInt>,
        width -> Integer,
        height -> Integer,
        renditions -> Text,
        bytes -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        name -> Text,
        question_count -> BigInt,
    }
}

diesel::table! {
    question_tags (question_id, tag_id) {
        question_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    /// Each question's words for full-text search (`models::search`); the FULLTEXT indexes
    /// (MariaDB/MySQL) or the FTS5 table over it (SQLite) are not Diesel's business.
    question_search (question_id) {
        question_id -> BigInt,
        title -> Text,
        body -> Text,
    }
}

diesel::table! {
    ballots (id) {
        id -> BigInt,
        question_id -> BigInt,
        voter -> Text,
        user_id -> Nullable<BigInt>,
        ip_hash -> Nullable<Text>,
        trust -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    votes (ballot_id, choice_id) {
        ballot_id -> BigInt,
        choice_id -> BigInt,
        question_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(question_search -> questions (question_id));
diesel::joinable!(questions -> users (author_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(identities -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(security_events -> users (user_id));
diesel::joinable!(choices -> questions (question_id));
diesel::joinable!(question_tags -> questions (question_id));
diesel::joinable!(question_tags -> tags (tag_id));
diesel::joinable!(ballots -> questions (question_id));
diesel::joinable!(votes -> ballots (ballot_id));
diesel::joinable!(votes -> choices (choice_id));

diesel::table! {
    vote_counts (question_id, choice_id, trust, slot) {
        question_id -> BigInt,
        choice_id -> BigInt,
        trust -> SmallInt,
        slot -> SmallInt,
        votes -> BigInt,
    }
}

diesel::table! {
    rollup_question_hourly (hour, question_id) {
        hour -> Timestamp,
        question_id -> BigInt,
        views -> BigInt,
        votes -> BigInt,
    }
}

diesel::table! {
    rollup_question_daily (day, question_id) {
        day -> Timestamp,
        question_id -> BigInt,
        views -> BigInt,
        votes -> BigInt,
    }
}

diesel::table! {
    rollup_tag_daily (day, tag_id) {
        day -> Timestamp,
        tag_id -> BigInt,
        views -> BigInt,
        votes -> BigInt,
    }
}

diesel::table! {
    rollup_site_hourly (hour) {
        hour -> Timestamp,
        page_views -> BigInt,
        votes -> BigInt,
        vote_changes -> BigInt,
        vote_withdrawals -> BigInt,
        signups -> BigInt,
        logins -> BigInt,
        questions_asked -> BigInt,
    }
}

diesel::table! {
    analytics_batches (id) {
        id -> Text,
        events -> Integer,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        target_kind -> Text,
        target_id -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(audit_log -> users (actor_id));

diesel::table! {
    flags (id) {
        id -> BigInt,
        question_id -> BigInt,
        voter -> Text,
        user_id -> Nullable<BigInt>,
        reason -> Text,
        details -> Nullable<Text>,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
        resolution -> Nullable<Text>,
    }
}

diesel::joinable!(flags -> questions (question_id));
diesel::joinable!(flags -> users (user_id));

diesel::table! {
    segments (id) {
        id -> BigInt,
        seg_key -> Text,
        label -> Text,
        choices -> Text,
        position -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    profile_answers (user_id, segment_id) {
        user_id -> BigInt,
        segment_id -> BigInt,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    rankings (ballot_id) {
        ballot_id -> BigInt,
        question_id -> BigInt,
        ranking -> Text,
    }
}

diesel::table! {
    ranking_counts (question_id, ranking, trust, slot) {
        question_id -> BigInt,
        ranking -> Text,
        trust -> SmallInt,
        slot -> SmallInt,
        votes -> BigInt,
    }
}

diesel::joinable!(rankings -> ballots (ballot_id));

diesel::joinable!(profile_answers -> users (user_id));
diesel::joinable!(profile_answers -> segments (segment_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    api_tokens,
    email_tokens,
    identities,
    questions,
    choices,
    tags,
    question_tags,
    question_search,
    ballots,
    votes,
    vote_counts,
    rollup_question_hourly,
    rollup_question_daily,
    rollup_tag_daily,
    rollup_site_hourly,
    analytics_batches,
    audit_log,
    flags,
    pending_signups,
    recovery_codes,
    security_events,
    segments,
    profile_answers,
    rankings,
    ranking_counts,
);
