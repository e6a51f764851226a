//! Key pair and password primitives for the ECS API: SSH key generation, validation and
//! fingerprints, `/etc/shadow` password hashes, and Huawei's password and key pair name rules.

mod error;
mod fingerprint;
mod keypair;
mod names;
mod password;
mod password_rules;
mod public_key;

pub use error::KeyError;
pub use fingerprint::md5_fingerprint;
pub use keypair::{generate_keypair, GeneratedKey};
pub use names::validate_keypair_name;
pub use password::{hash_password, hash_password_with_salt, verify_password};
pub use password_rules::check_password_complexity;
pub use public_key::{parse_public_key, PublicKeyInfo, MAX_PUBLIC_KEY_LEN};
