//! Rendezvous (highest-random-weight) hashing of keys to memcached servers.
//!
//! Each server gets a score `SipHash-1-3(fixed keys; server id, 0xff, key)` and the key lives on
//! the server with the highest score. SipHash with fixed keys from the `siphasher` crate gives
//! the same numbers in every process, on every machine and with every Rust version (std's
//! `DefaultHasher` promises none of that). Adding a server moves only the keys it now wins
//! (about 1/N of them); removing one moves only the keys it had.

use std::hash::Hasher;

use siphasher::sip::SipHasher13;

const K0: u64 = 0x6265_6562_6574_6131; // "beebeta1"
const K1: u64 = 0x7265_6e64_657a_766f; // "rendezvo"

/// The score of `key` on the server called `server_id`.
pub fn score(server_id: &str, key: &str) -> u64 {
    let mut hasher = SipHasher13::new_with_keys(K0, K1);
    hasher.write(server_id.as_bytes());
    // A separator byte that never occurs in UTF-8, so ("ab", "c") and ("a", "bc") differ.
    hasher.write(&[0xff]);
    hasher.write(key.as_bytes());
    hasher.finish()
}

/// The index of the server that owns `key`; ties go to the lower id so the choice never depends
/// on the order of the list. `server_ids` must not be empty.
pub fn pick<S: AsRef<str>>(server_ids: &[S], key: &str) -> usize {
    let mut best = 0;
    let mut best_score = score(server_ids[0].as_ref(), key);
    for (index, id) in server_ids.iter().enumerate().skip(1) {
        let s = score(id.as_ref(), key);
        if s > best_score || (s == best_score && id.as_ref() < server_ids[best].as_ref()) {
            best = index;
            best_score = s;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: usize = 20_000;

    fn keys() -> impl Iterator<Item = String> {
        (0..KEYS).map(|i| format!("beebeta:v1:question:{i}"))
    }

    fn owner<'a>(servers: &[&'a str], key: &str) -> &'a str {
        servers[pick(servers, key)]
    }

    #[test]
    fn scores_are_stable_across_builds() {
        // Pinned (and checked against an independent SipHash-1-3 implementation): if this
        // changes, every deployed key moves to another server.
        assert_eq!(score("a:1", "k"), 15_335_551_513_959_877_811);
        assert_ne!(score("ab", "c"), score("a", "bc"));
    }

    #[test]
    fn order_of_the_server_list_does_not_matter() {
        let a = ["m1:11211", "m2:11211", "m3:11211"];
        let b = ["m3:11211", "m1:11211", "m2:11211"];
        for key in keys().take(2_000) {
            assert_eq!(owner(&a, &key), owner(&b, &key));
        }
    }

    #[test]
    fn three_servers_share_keys_evenly() {
        let servers = ["m1:11211", "m2:11211", "m3:11211"];
        let mut counts = [0usize; 3];
        for key in keys() {
            counts[pick(&servers, &key)] += 1;
        }
        for count in counts {
            let share = count as f64 / KEYS as f64;
            assert!((0.29..0.38).contains(&share), "uneven split: {counts:?}");
        }
    }

    #[test]
    fn adding_a_fourth_server_moves_about_a_quarter_and_only_to_it() {
        let three = ["m1:11211", "m2:11211", "m3:11211"];
        let four = ["m1:11211", "m2:11211", "m3:11211", "m4:11211"];
        let mut moved = 0;
        for key in keys() {
            let before = owner(&three, &key);
            let after = owner(&four, &key);
            if before != after {
                assert_eq!(after, "m4:11211", "a key moved between old servers");
                moved += 1;
            }
        }
        let share = moved as f64 / KEYS as f64;
        assert!((0.15..0.35).contains(&share), "moved {share}");
    }

    #[test]
    fn removing_a_server_moves_only_its_keys() {
        let three = ["m1:11211", "m2:11211", "m3:11211"];
        let two = ["m1:11211", "m3:11211"];
        let mut moved = 0;
        for key in keys() {
            let before = owner(&three, &key);
            let after = owner(&two, &key);
            if before == "m2:11211" {
                moved += 1;
            } else {
                assert_eq!(before, after, "a key of a remaining server moved");
            }
        }
        assert!(moved > 0);
    }
}
