// The meeting's video room: one peer connection with the server, negotiated once (see signalling.py).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("room-config").textContent);
  const $ = (id) => document.getElementById(id);
  let socket = null, pc = null, me = null, role = null, hand = false;

  function send(message) { socket.send(JSON.stringify(message)); }
  function status(text) { $("status").textContent = text; }

  function render(state) {
    const list = $("members");
    list.replaceChildren();
    for (const member of state.members) {
      const li = document.createElement("li");
      li.textContent = member.name + (member.peer === state.floor ? " — " + config.speaking : "") +
        (member.hand ? " ✋ " + config.hand : "");
      if (role === "organizer" && member.peer !== state.floor) {
        const button = document.createElement("button");
        button.type = "button"; button.className = "secondary"; button.textContent = config.give;
        button.onclick = () => send({type: "floor", peer: member.peer});
        li.append(" ", button);
      }
      list.append(li);
    }
    $("yield").disabled = state.floor !== me;
  }

  async function offer() {
    const media = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 360}});
    pc = new RTCPeerConnection({iceServers: config.ice.map((url) => ({urls: url}))});
    for (const track of media.getTracks()) pc.addTransceiver(track, {direction: "sendrecv"});
    const remote = new MediaStream();
    pc.ontrack = (event) => { remote.addTrack(event.track); $("stage").srcObject = remote; };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {  // no trickle: send the offer with every candidate in it
      if (pc.iceGatheringState === "complete") return resolve();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
    });
    send({type: "offer", sdp: pc.localDescription.sdp});
  }

  $("join").onclick = () => {
    $("join").disabled = true;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/meetings/${config.meeting}/room/ws`);
    socket.onmessage = async (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "welcome") { me = message.peer; role = message.role; render(message); await offer(); }
      else if (message.type === "answer") { await pc.setRemoteDescription(message); $("hand").disabled = false; status(""); }
      else if (message.type === "state") render(message);
      else if (message.type === "error") status(message.message);
    };
    socket.onclose = () => { status("—"); $("join").disabled = false; if (pc) pc.close(); };
  };
  $("hand").onclick = () => { hand = !hand; send({type: "hand", up: hand}); };
  $("yield").onclick = () => send({type: "floor", peer: null});
})();
