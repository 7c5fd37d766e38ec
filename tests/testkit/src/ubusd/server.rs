//! The accept loop and one reader and one writer task per client. Readers decode a message,
//! take the registry lock and handle it; writers drain the client's queue onto its socket.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use ubus_wire::connection::{buffered, read_frame, write_batch};
use ubus_wire::{Message, MessageType};

use super::handlers;
use super::monitor;
use super::objects;
use super::state::{Client, Registry};

pub type Shared = Arc<Mutex<Registry>>;

pub fn lock(shared: &Shared) -> MutexGuard<'_, Registry> {
    // A handler never panics on input; if one did, the state is still usable for a test.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub async fn accept_loop(listener: UnixListener, shared: Shared) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_client(stream, shared.clone()));
            }
            Err(e) => {
                log_problem(&format!("accept: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_client(stream: UnixStream, shared: Shared) {
    let (user, group) = credentials(&stream);
    let (reader, mut writer) = stream.into_split();
    let mut reader = buffered(reader);
    let (outbox, mut queue) = mpsc::unbounded_channel();
    let id = {
        let mut reg = lock(&shared);
        let id = reg.new_id();
        let client = Client {
            outbox,
            user,
            group,
            objects: Vec::new(),
        };
        reg.clients.insert(id, client);
        reg.send(id, Message::new(MessageType::Hello, 0, id, Vec::new()));
        id
    };
    let writer_task = tokio::spawn(async move {
        while let Some(bytes) = queue.recv().await {
            if write_batch(&mut writer, bytes, &mut queue).await.is_err() {
                break;
            }
        }
    });
    // Malformed input or EOF ends the client, as ubusd drops a client it cannot parse. Like
    // ubusd, it parses the ubus attributes but leaves DATA as the bytes it relays.
    while let Ok(Some(frame)) = read_frame(&mut reader).await {
        let Ok(message) = Message::decode_routing(&frame) else {
            break;
        };
        let mut reg = lock(&shared);
        monitor::copy(&mut reg, id, &message, false);
        handlers::handle(&mut reg, id, &message);
    }
    disconnect(&shared, id);
    // Dropping the outbox (in disconnect) lets the writer flush what is queued and stop.
    let _ = writer_task.await;
}

/// ubusd_proto_free_client: every object of the client goes, with all that entails.
fn disconnect(shared: &Shared, id: u32) {
    let mut reg = lock(shared);
    let owned = reg
        .clients
        .get(&id)
        .map(|c| c.objects.clone())
        .unwrap_or_default();
    for object in owned {
        objects::free_object(&mut reg, object);
    }
    reg.monitors.retain(|(monitor, _)| *monitor != id);
    reg.clients.remove(&id);
}

/// The peer's user and group names, which ubusd puts into forwarded INVOKEs.
fn credentials(stream: &UnixStream) -> (String, String) {
    match stream.peer_cred() {
        Ok(cred) => (
            name_of("/etc/passwd", cred.uid()),
            name_of("/etc/group", cred.gid()),
        ),
        Err(_) => (String::new(), String::new()),
    }
}

/// Looks a numeric id up in a passwd/group style file; the number itself if it is not there.
pub fn name_of(file: &str, id: u32) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let number = fields.nth(1)?.parse::<u32>().ok()?;
            (number == id).then(|| name.to_owned())
        })
        .next()
        .unwrap_or_else(|| id.to_string())
}

fn log_problem(text: &str) {
    eprintln!("test-ubusd: {text}");
}
