//! An [`AnswerStore`] in the Redis that replicas share.
//!
//! Keys (every one under [`KEY_PREFIX`], so a new value format never reads an old one):
//! - `{bizgraph:v1:answers}:<graph version>:answer:<token fingerprint>:<sha256 of path and
//!   params>` holds one answer: its tags, then its body. The path and parameters are hashed so
//!   that nothing a caller chose is a key; the token is only ever its keyed fingerprint.
//! - `{bizgraph:v1:answers}:tag:<tag>` is the set of answer keys stored with that tag, across
//!   Graph versions, so that `invalidate` deletes every answer of a tag (in one Lua script, so
//!   an answer stored meanwhile is never left outside its tag's set).
//! - `bizgraph:v1:bytes:<key>` is the keyed area (persisted queries).
//!
//! Answers and tag sets share one Redis Cluster hash tag, `{bizgraph:v1:answers}`: storing an
//! answer (a transaction on the answer and its tags' sets) and invalidating (a script on the
//! sets and their answers, every one declared in `KEYS`) touch keys of one hash slot, so both
//! run on a cluster. The keyed area is read and written one key at a time and has no hash tag.
//!
//! An answer body past [`COMPRESS_FROM`] bytes is stored deflated (`flate2`) when that makes
//! it smaller: Graph's JSON shrinks several times, and Redis's memory is shared by every
//! replica.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{AnswerStore, CacheKey, CacheTag, CachedAnswer, StoreError};
use crate::shared_redis::{KEY_PREFIX, RedisUnavailable, SharedRedis, slot_prefix};

/// The value format: a version byte, the tags' length (4 bytes, big-endian), the tags
/// joined by newlines, then the body.
const FORMAT: u8 = 1;
/// The same, with the body deflated.
const FORMAT_DEFLATED: u8 = 2;
/// Bodies from this size on are stored deflated when that makes them smaller.
const COMPRESS_FROM: usize = 2048;

fn deflate(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn inflate(body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(body)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// Deletes the tag sets `KEYS[1..ARGV[1]]` and the answers in them, which the rest of `KEYS`
/// must name: a script touches only the keys it declares (as a Redis Cluster requires). When a
/// set holds an answer not declared (stored since the caller read the sets), nothing is
/// deleted and the script answers those keys, for the caller to declare them and run it again.
const INVALIDATE_SCRIPT: &str = r"
local tags = tonumber(ARGV[1])
local declared = {}
for i = tags + 1, #KEYS do
  declared[KEYS[i]] = true
end
local undeclared = {}
for i = 1, tags do
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if not declared[member] then
      declared[member] = true
      table.insert(undeclared, member)
    end
  end
end
if #undeclared > 0 then
  return undeclared
end
for i = 1, #KEYS, 500 do
  redis.call('DEL', unpack(KEYS, i, math.min(i + 499, #KEYS)))
end
return {}
";

/// Rounds of the invalidation script: answers stored with the tags while it runs are declared
/// in the next round; this many rounds in a row with new answers is an error.
const INVALIDATE_ROUNDS: usize = 5;

/// Answers and the keyed area in Redis.
pub(crate) struct RedisAnswerStore {
    redis: SharedRedis,
}

impl RedisAnswerStore {
    pub(crate) fn new(redis: SharedRedis) -> RedisAnswerStore {
        RedisAnswerStore { redis }
    }
}

fn unavailable(error: RedisUnavailable) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// The Redis key of an answer.
pub(crate) fn answer_key(key: &CacheKey) -> String {
    let mut hasher = Sha256::new();
    hasher.update(key.path.as_bytes());
    hasher.update([0]);
    hasher.update(key.params.as_bytes());
    format!(
        "{}:{}:answer:{}:{}",
        slot_prefix("answers"),
        key.version,
        key.token,
        hex::encode(hasher.finalize())
    )
}

/// The Redis key of a tag's set of answer keys.
fn tag_key(tag: &CacheTag) -> String {
    format!("{}:tag:{tag}", slot_prefix("answers"))
}

fn bytes_key(key: &str) -> String {
    format!("{KEY_PREFIX}:bytes:{key}")
}

/// An answer and its tags as one Redis value.
fn encode(answer: &CachedAnswer, tags: &[CacheTag]) -> Vec<u8> {
    let tags = tags
        .iter()
        .map(CacheTag::as_str)
        .collect::<Vec<_>>()
        .join("\n");
    let deflated = (answer.body.len() >= COMPRESS_FROM)
        .then(|| deflate(&answer.body))
        .flatten()
        .filter(|d| d.len() < answer.body.len());
    let (format, body) = match &deflated {
        Some(deflated) => (FORMAT_DEFLATED, deflated.as_slice()),
        None => (FORMAT, answer.body.as_slice()),
    };
    let mut value = Vec::with_capacity(5 + tags.len() + body.len());
    value.push(format);
    value.extend_from_slice(&u32::try_from(tags.len()).unwrap_or(u32::MAX).to_be_bytes());
    value.extend_from_slice(tags.as_bytes());
    value.extend_from_slice(body);
    value
}

/// An answer and its tags from a Redis value; `None` for a value of another format.
pub(crate) fn decode(value: &[u8]) -> Option<(CachedAnswer, Vec<CacheTag>)> {
    let (&format, rest) = value.split_first()?;
    if !matches!(format, FORMAT | FORMAT_DEFLATED) || rest.len() < 4 {
        return None;
    }
    let (len, rest) = rest.split_at(4);
    let len = usize::try_from(u32::from_be_bytes(len.try_into().ok()?)).ok()?;
    if rest.len() < len {
        return None;
    }
    let (tags, body) = rest.split_at(len);
    let tags = std::str::from_utf8(tags)
        .ok()?
        .split('\n')
        .filter(|tag| !tag.is_empty())
        .map(|tag| CacheTag(tag.to_owned()))
        .collect();
    let body = if format == FORMAT_DEFLATED {
        inflate(body)?
    } else {
        body.to_vec()
    };
    Some((CachedAnswer { body }, tags))
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisAnswerStore {
    /// The answer under `key`, its tags and how long it has left.
    pub(crate) async fn get_with_tags(
        &self,
        key: &CacheKey,
    ) -> Result<Option<(CachedAnswer, Vec<CacheTag>, Duration)>, StoreError> {
        let redis_key = answer_key(key);
        let (value, left): (Option<Vec<u8>>, i64) = self
            .redis
            .call(|mut connection| async move {
                redis::pipe()
                    .get(&redis_key)
                    .pttl(&redis_key)
                    .query_async(&mut connection)
                    .await
            })
            .await
            .map_err(unavailable)?;
        let Some(value) = value else {
            return Ok(None);
        };
        // A key without a lifetime (-1) was not written by this store; gone (-2) is a miss.
        let Ok(left) = u64::try_from(left) else {
            return Ok(None);
        };
        Ok(decode(&value).map(|(answer, tags)| (answer, tags, Duration::from_millis(left))))
    }
}

#[async_trait::async_trait]
impl AnswerStore for RedisAnswerStore {
    async fn get(&self, key: &CacheKey) -> Result<Option<Arc<CachedAnswer>>, StoreError> {
        Ok(self
            .get_with_tags(key)
            .await?
            .map(|(answer, _, _)| Arc::new(answer)))
    }

    async fn put(
        &self,
        key: CacheKey,
        answer: Arc<CachedAnswer>,
        mut tags: Vec<CacheTag>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        tags.sort();
        tags.dedup();
        let redis_key = answer_key(&key);
        let value = encode(&answer, &tags);
        let ttl = millis(ttl);
        self.redis
            .call(|mut connection| async move {
                let mut pipe = redis::pipe();
                pipe.atomic()
                    .cmd("SET")
                    .arg(&redis_key)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl)
                    .ignore();
                for tag in &tags {
                    let set = tag_key(tag);
                    pipe.sadd(&set, &redis_key).ignore();
                    // The set lives as long as its newest answer (every answer of one gateway
                    // has the same lifetime).
                    pipe.cmd("PEXPIRE").arg(&set).arg(ttl).ignore();
                }
                pipe.query_async::<()>(&mut connection).await
            })
            .await
            .map_err(unavailable)
    }

    async fn invalidate(&self, tags: &[CacheTag]) -> Result<(), StoreError> {
        if tags.is_empty() {
            return Ok(());
        }
        let mut keys: Vec<String> = tags.iter().map(tag_key).collect();
        let sets = keys.len();
        for _ in 0..INVALIDATE_ROUNDS {
            let declared = keys.clone();
            let undeclared: Vec<String> = self
                .redis
                .call(|mut connection| async move {
                    redis::cmd("EVAL")
                        .arg(INVALIDATE_SCRIPT)
                        .arg(declared.len())
                        .arg(&declared)
                        .arg(sets)
                        .query_async(&mut connection)
                        .await
                })
                .await
                .map_err(unavailable)?;
            if undeclared.is_empty() {
                return Ok(());
            }
            keys.extend(undeclared);
        }
        Err(StoreError::Backend(format!(
            "answers kept being stored with the tags being invalidated ({INVALIDATE_ROUNDS} \
             rounds)"
        )))
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Arc<[u8]>>, StoreError> {
        let redis_key = bytes_key(key);
        let value: Option<Vec<u8>> = self
            .redis
            .call(|mut connection| async move {
                redis::cmd("GET")
                    .arg(&redis_key)
                    .query_async(&mut connection)
                    .await
            })
            .await
            .map_err(unavailable)?;
        Ok(value.map(Arc::from))
    }

    async fn put_bytes(
        &self,
        key: String,
        value: Arc<[u8]>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        if ttl.is_zero() {
            return Ok(());
        }
        let redis_key = bytes_key(&key);
        let ttl = millis(ttl);
        self.redis
            .call(|mut connection| async move {
                redis::cmd("SET")
                    .arg(&redis_key)
                    .arg(&*value)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut connection)
                    .await
            })
            .await
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{AccessToken, Fingerprinter};

    #[test]
    fn a_value_holds_its_tags_and_body_and_a_key_holds_no_token_nor_path() {
        let answer = CachedAnswer {
            body: b"{\"id\":\"1\"}\n\0binary".to_vec(),
        };
        let tags = vec![CacheTag::node("1"), CacheTag::node("2")];
        let (decoded, decoded_tags) = decode(&encode(&answer, &tags)).expect("decodes");
        assert_eq!((decoded, decoded_tags), (answer, tags));
        assert!(decode(b"\x02whatever").is_none());

        let key = CacheKey {
            token: Fingerprinter::random().fingerprint(&AccessToken::new("EAAsecret")),
            version: "v25.0".into(),
            path: "me/businesses".to_owned(),
            params: "fields=name".to_owned(),
        };
        let redis_key = answer_key(&key);
        assert!(
            redis_key.starts_with("{bizgraph:v1:answers}:v25.0:answer:"),
            "{redis_key}"
        );
        assert!(!redis_key.contains("EAAsecret") && !redis_key.contains("businesses"));
    }

    #[test]
    fn an_answer_and_its_tags_sets_are_in_one_hash_slot_whatever_their_text() {
        use crate::shared_redis::hash_tag;
        let fingerprints = Fingerprinter::random();
        let token = fingerprints.fingerprint(&AccessToken::new("EAAsecret"));
        let answer = answer_key(&CacheKey {
            token,
            version: "v25.0".into(),
            // Braces a caller or Graph chose do not move the key to another slot.
            path: "{200001}".to_owned(),
            params: "fields={name}".to_owned(),
        });
        let tags = [
            tag_key(&CacheTag::token(token)),
            tag_key(&CacheTag::node("200001")),
            tag_key(&CacheTag::node("{weird}")),
        ];
        for key in std::iter::once(&answer).chain(&tags) {
            assert_eq!(hash_tag(key), "bizgraph:v1:answers", "{key}");
        }
        assert_eq!(tags[1], "{bizgraph:v1:answers}:tag:node:200001");
        // The keyed area is used one key at a time and spreads over the slots.
        assert_eq!(
            hash_tag(&bytes_key("apq:v1:abc")),
            "bizgraph:v1:bytes:apq:v1:abc"
        );
    }

    #[test]
    fn a_large_answer_is_stored_deflated_and_read_back_whole() {
        let body: Vec<u8> = (0..400)
            .map(|i| format!("{{\"id\":\"{i}\",\"name\":\"Pomni Media\"}},"))
            .collect::<String>()
            .into_bytes();
        let answer = CachedAnswer { body };
        let tags = vec![CacheTag::node("200001")];
        let value = encode(&answer, &tags);
        assert_eq!(value[0], FORMAT_DEFLATED);
        assert!(value.len() * 3 < answer.body.len(), "{} bytes", value.len());
        assert_eq!(decode(&value), Some((answer, tags.clone())));
        // A small one stays as it is.
        let small = CachedAnswer {
            body: b"{}".to_vec(),
        };
        assert_eq!(encode(&small, &tags)[0], FORMAT);
    }
}
