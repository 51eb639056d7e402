//! Leader election on the `openova-manager` Lease (kube-lease-manager): only the replica holding
//! the Lease runs the controllers, so only one replica ever writes.

use std::sync::Arc;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;

use super::{ManagerError, Metrics, Settings};
use crate::crd::consts;

/// Compete for the Lease until `shutdown` resolves; run the controllers while holding it and stop
/// them as soon as it is lost. On shutdown the Lease is released so a standby takes over at once.
pub async fn run_elected(
    client: Client,
    settings: Settings,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ManagerError> {
    let duration = settings.lease.as_secs().max(2);
    // Renew well before expiry; a third of the duration tolerates one missed renewal.
    let grace = (duration / 3).max(1);
    let lease = LeaseManagerBuilder::new(client.clone(), consts::LEASE_NAME)
        .with_namespace(&settings.namespace)
        .with_identity(&settings.identity)
        .with_duration(duration)
        .with_grace(grace)
        .with_field_manager(format!(
            "{}-{}",
            consts::FIELD_MANAGER_MANAGER,
            settings.identity
        ))
        .build()
        .await?;
    let (mut leading, lease_task) = lease.watch().await;
    metrics.set_ready(true);
    tokio::pin!(shutdown);
    let mut controllers: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )> = None;
    loop {
        let is_leader = *leading.borrow_and_update();
        metrics.set_leader(is_leader);
        match (is_leader, controllers.is_some()) {
            (true, false) => {
                tracing::info!(identity = %settings.identity, "acquired the Lease; starting controllers");
                let (tx, rx) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(super::run_controllers(
                    client.clone(),
                    settings.clone(),
                    metrics.clone(),
                    async move {
                        let _ = rx.await;
                    },
                ));
                controllers = Some((tx, task));
            }
            (false, true) => {
                tracing::warn!(identity = %settings.identity, "lost the Lease; stopping controllers");
                if let Some((_, task)) = controllers.take() {
                    // Stop writing immediately: another replica may already lead.
                    task.abort();
                    let _ = task.await;
                }
            }
            _ => {}
        }
        tokio::select! {
            changed = leading.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = &mut shutdown => break,
        }
    }
    if let Some((stop, task)) = controllers.take() {
        let _ = stop.send(());
        let _ = task.await;
    }
    metrics.set_leader(false);
    // Dropping the receiver makes the lease task release the Lease and finish.
    drop(leading);
    match lease_task.await {
        Ok(Ok(_)) | Err(_) => Ok(()),
        Ok(Err(e)) => Err(ManagerError::Leader(e)),
    }
}
