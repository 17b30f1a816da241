//! Hosted-file bytes, sealed before they get here, in any `object_store` backend.

use crate::error::{StoreError, StoreResult};
use bytes::Bytes;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

/// The blob store: a local directory by default, S3 (or compatible) by URL.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    description: String,
}

impl BlobStore {
    /// Opens `s3://bucket/prefix` (credentials from the usual AWS environment) or a
    /// local directory given as a path or `file://` URL, created if missing.
    pub fn open(location: &str) -> StoreResult<Self> {
        let blob_err = |e: object_store::Error| StoreError::Blob(e.to_string());
        if location.starts_with("s3://") {
            let url = url::Url::parse(location).map_err(|e| StoreError::BadUrl(e.to_string()))?;
            let (store, _prefix) = object_store::parse_url_opts(&url, std::env::vars()).map_err(blob_err)?;
            return Ok(Self {
                inner: Arc::from(store),
                description: location.to_owned(),
            });
        }
        let dir = location.strip_prefix("file://").unwrap_or(location);
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Blob(format!("cannot create {dir}: {e}")))?;
        let local = object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(blob_err)?;
        Ok(Self {
            inner: Arc::new(local),
            description: dir.to_owned(),
        })
    }

    /// Where the blobs live, for logs and health output.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Stores sealed bytes under a key.
    pub async fn put(&self, key: &str, sealed: Vec<u8>) -> StoreResult<()> {
        self.inner
            .put(&ObjectPath::from(key), PutPayload::from(Bytes::from(sealed)))
            .await
            .map_err(|e| StoreError::Blob(e.to_string()))?;
        Ok(())
    }

    /// Reads sealed bytes; `None` when the key does not exist.
    pub async fn get(&self, key: &str) -> StoreResult<Option<Bytes>> {
        match self.inner.get(&ObjectPath::from(key)).await {
            Ok(result) => Ok(Some(result.bytes().await.map_err(|e| StoreError::Blob(e.to_string()))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(StoreError::Blob(e.to_string())),
        }
    }

    /// Deletes a key; deleting a missing key succeeds.
    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        match self.inner.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(StoreError::Blob(e.to_string())),
        }
    }
}
