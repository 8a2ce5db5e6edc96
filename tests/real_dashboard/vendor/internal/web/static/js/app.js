/**
 * Grimnir Radio - Application JavaScript
 */

// Theme Management
function setTheme(theme) {
    document.documentElement.setAttribute('data-bs-theme', theme);
    localStorage.setItem('grimnir-theme', theme);

    // Update theme CSS link
    const themeLink = document.querySelector('link[href*="/static/css/themes/"]');
    if (themeLink) {
        themeLink.href = `/static/css/themes/${theme}.css`;
    }

    // Close the theme modal if it's open
    const themeModal = document.getElementById('themeModal');
    if (themeModal) {
        const bsModal = bootstrap.Modal.getInstance(themeModal);
        if (bsModal) {
            // Wait for modal to fully hide before cleanup
            themeModal.addEventListener('hidden.bs.modal', function cleanup() {
                themeModal.removeEventListener('hidden.bs.modal', cleanup);
                // Clean up any stale modal backdrops after modal is fully hidden
                document.querySelectorAll('.modal-backdrop').forEach(el => el.remove());
                document.body.classList.remove('modal-open');
                document.body.style.removeProperty('overflow');
                document.body.style.removeProperty('padding-right');
            }, { once: true });
            bsModal.hide();
        } else {
            // No modal instance, just clean up directly
            document.querySelectorAll('.modal-backdrop').forEach(el => el.remove());
            document.body.classList.remove('modal-open');
            document.body.style.removeProperty('overflow');
            document.body.style.removeProperty('padding-right');
        }
    }

    // Save to server for cross-device sync (if logged in)
    if (window.htmx && window.GRIMNIR_WS_TOKEN) {
        htmx.ajax('POST', '/api/v1/preferences/theme', {
            values: { theme: theme },
            swap: 'none',
            headers: { 'Authorization': 'Bearer ' + window.GRIMNIR_WS_TOKEN }
        }).catch(() => {
            // Ignore errors - theme is saved locally anyway
        });
    }
}

// Initialize theme from localStorage
(function() {
    const savedTheme = localStorage.getItem('grimnir-theme');
    if (savedTheme) {
        setTheme(savedTheme);
    }
})();

// WebSocket Connection Manager
class GrimnirWebSocket {
    constructor() {
        this.ws = null;
        this.reconnectAttempts = 0;
        this.maxReconnectAttempts = 10;
        this.reconnectDelay = 5000;
        this.listeners = new Map();
    }

    connect(types = ['schedule_update', 'now_playing', 'health']) {
        const token = this.getToken();
        if (!token) {
            console.log('No auth token, skipping WebSocket connection');
            return;
        }

        const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
        const url = `${protocol}//${window.location.host}/api/v1/events?types=${types.join(',')}&token=${token}`;

        this.ws = new WebSocket(url);

        this.ws.onopen = () => {
            console.log('WebSocket connected');
            this.reconnectAttempts = 0;
            this.dispatch('connected', {});
        };

        this.ws.onmessage = (event) => {
            try {
                const data = JSON.parse(event.data);
                if (data.type === 'ping') {
                    return; // Ignore keepalive
                }
                this.dispatch(data.type, data.payload);
            } catch (e) {
                console.error('WebSocket message parse error:', e);
            }
        };

        this.ws.onclose = (event) => {
            console.log('WebSocket closed:', event.code, event.reason);
            this.dispatch('disconnected', { code: event.code, reason: event.reason });
            this.scheduleReconnect();
        };

        this.ws.onerror = (error) => {
            console.error('WebSocket error:', error);
            this.dispatch('error', { error });
        };
    }

    scheduleReconnect() {
        if (this.reconnectAttempts >= this.maxReconnectAttempts) {
            console.log('Max reconnection attempts reached');
            return;
        }

        this.reconnectAttempts++;
        const delay = this.reconnectDelay * Math.pow(1.5, this.reconnectAttempts - 1);
        console.log(`Reconnecting in ${delay}ms (attempt ${this.reconnectAttempts})`);

        setTimeout(() => this.connect(), delay);
    }

    on(event, callback) {
        if (!this.listeners.has(event)) {
            this.listeners.set(event, []);
        }
        this.listeners.get(event).push(callback);
    }

    off(event, callback) {
        const callbacks = this.listeners.get(event);
        if (callbacks) {
            const index = callbacks.indexOf(callback);
            if (index > -1) {
                callbacks.splice(index, 1);
            }
        }
    }

    dispatch(event, data) {
        const callbacks = this.listeners.get(event);
        if (callbacks) {
            callbacks.forEach(cb => cb(data));
        }
    }

    getToken() {
        // Get WS token from global variable (set by server in template)
        // This is a short-lived token specifically for WebSocket auth
        return window.GRIMNIR_WS_TOKEN || null;
    }

    disconnect() {
        if (this.ws) {
            this.ws.close();
            this.ws = null;
        }
    }
}

// Global WebSocket instance
window.grimnirWS = new GrimnirWebSocket();

// Initialize WebSocket on authenticated pages
function getStationSelectorElement() {
    return document.getElementById('stationSelector') || document.querySelector('select[name="station_id"]');
}

// Render server UTC timestamps in the user's local timezone for designated elements.
// Elements must include: class="js-local-datetime" data-utc="RFC3339"
function grimnirUpdateLocalDateTimes(root) {
    const scope = root || document;

    const pad2 = (n) => String(n).padStart(2, '0');
    const formatLocalYYYYMMDDHHMMSS = (d) => (
        `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
    );

    scope.querySelectorAll('.js-local-datetime[data-utc]').forEach((el) => {
        const utc = el.getAttribute('data-utc');
        if (!utc) return;
        const d = new Date(utc);
        if (isNaN(d.getTime())) return;
        el.textContent = formatLocalYYYYMMDDHHMMSS(d);
        if (!el.getAttribute('title')) el.setAttribute('title', `UTC: ${utc}`);
    });
}

window.grimnirUpdateLocalDateTimes = grimnirUpdateLocalDateTimes;

document.addEventListener('DOMContentLoaded', () => {
    grimnirUpdateLocalDateTimes(document);

    if (document.body.classList.contains('dashboard-layout')) {
        window.grimnirWS.connect();

        // Fetch initial now-playing state
        fetchNowPlaying();
        // Keep header now-playing fresh even if websocket events are missed.
        window._grimnirNowPlayingPoll = setInterval(fetchNowPlaying, 15000);

        // Always resolve now-playing from the currently selected station.
        // WebSocket events may include updates for other stations.
        window.grimnirWS.on('now_playing', () => {
            fetchNowPlaying();
        });

        window.grimnirWS.on('schedule_update', (data) => {
            // Trigger calendar refresh if on schedule page
            if (window.calendar) {
                window.calendar.refetchEvents();
            }
        });

        window.grimnirWS.on('health', (data) => {
            updateHealthStatus(data);
        });

        window.grimnirWS.on('webstream.health', (data) => {
            updateWebstreamHealthStatus(data);
        });

        const nowPlaying = document.getElementById('nowPlaying');
        if (nowPlaying) {
            nowPlaying.style.cursor = 'pointer';
            nowPlaying.title = 'Play current station audio';
            nowPlaying.addEventListener('click', () => {
                playSelectedStationAudio();
            });
        }

        const dashboardPlayLink = document.getElementById('dashboardPlayLink');
        if (dashboardPlayLink) {
            dashboardPlayLink.addEventListener('click', (e) => {
                e.preventDefault();
                playSelectedStationAudio();
            });
        }

        // Refresh header now-playing when station context changes.
        const stationSelect = getStationSelectorElement();
        if (stationSelect) {
            stationSelect.addEventListener('change', () => {
                setTimeout(fetchNowPlaying, 150);
                // Keep audio stream and dashboard station context aligned.
                if (window.globalPlayer?.isLive) {
                    playSelectedStationAudio();
                }
            });
        }

        window.addEventListener('resize', () => updateDashboardNowPlayingMarquee());
    }
});

function getSelectedStationInfo() {
    const stationSelect = getStationSelectorElement();
    if (!stationSelect || !stationSelect.value) return null;

    const option = stationSelect.options[stationSelect.selectedIndex];
    return {
        stationId: stationSelect.value,
        stationName: option?.textContent?.trim() || 'Live Stream'
    };
}

async function playSelectedStationAudio() {
    if (!window.globalPlayer || typeof window.globalPlayer.switchToStation !== 'function') return;

    const station = getSelectedStationInfo();
    if (!station) return;

    try {
        const headers = {};
        if (window.GRIMNIR_WS_TOKEN) {
            headers['Authorization'] = 'Bearer ' + window.GRIMNIR_WS_TOKEN;
        }

        const response = await fetch(`/api/v1/stations/${station.stationId}/mounts`, { headers });
        if (!response.ok) return;

        const mounts = await response.json();
        if (!Array.isArray(mounts) || mounts.length === 0) return;

        // Prefer highest bitrate mount as default.
        const sorted = [...mounts].sort((a, b) => (b.bitrate || 0) - (a.bitrate || 0));
        const mount = sorted[0];
        if (!mount?.name) return;

        window.globalPlayer.switchToStation(station.stationId, `/live/${mount.name}`, station.stationName);
    } catch (e) {
        console.debug('Failed to start station audio from now-playing header:', e);
    }
}

// Fetch current now-playing state from API
async function fetchNowPlaying() {
    try {
        // Get station ID from the page (station selector)
        const stationSelect = getStationSelectorElement();
        const stationId = stationSelect?.value;
        if (!stationId) return;

        const response = await fetch(`/api/v1/analytics/now-playing?station_id=${stationId}`);
        if (response.ok) {
            const data = await response.json();
            updateNowPlaying(data);
        }
    } catch (e) {
        console.log('Failed to fetch now-playing:', e);
    }
}

// Update now playing display
function updateNowPlaying(data) {
    const container = document.getElementById('nowPlaying');
    if (!container) return;

    const line = buildNowPlayingLine(data);
    if (line) {
        const icon = document.createElement('i');
        icon.className = 'bi bi-music-note text-success';

        const trackWrap = document.createElement('span');
        trackWrap.className = 'dashboard-now-playing-track';

        const trackText = document.createElement('span');
        trackText.className = 'dashboard-now-playing-text';
        trackText.textContent = line;
        trackText.title = line;

        trackWrap.appendChild(trackText);
        container.replaceChildren(icon, trackWrap);
        scheduleNowPlayingMarqueeUpdate();
    } else {
        container.innerHTML = '<i class="bi bi-music-note"></i><span class="text-body-secondary">Nothing playing</span>';
    }

    // Update on-air status
    const statusBadge = document.getElementById('onAirStatus');
    if (statusBadge) {
        if (data && data.status === 'playing') {
            statusBadge.className = 'badge on-air';
            statusBadge.innerHTML = '<i class="bi bi-record-circle me-1"></i>ON AIR';
        } else {
            statusBadge.className = 'badge bg-secondary';
            statusBadge.innerHTML = '<i class="bi bi-record-circle me-1"></i>OFF AIR';
        }
    }
}

function buildNowPlayingLine(data) {
    if (!data || typeof data !== 'object') return '';

    let artist = String(data.artist || '').trim();
    let title = String(data.title || '').trim();

    if (!artist && title.includes(' - ')) {
        const parts = title.split(' - ');
        if (parts.length >= 2) {
            artist = parts.shift().trim();
            title = parts.join(' - ').trim();
        }
    }

    if (data.is_live_dj === true) return 'Live DJ';
    if (title && artist) return `${artist} - ${title}`;
    if (title) return title;
    if (artist) return artist;

    const mountID = String(data.mount_id || '').trim();
    if (mountID) return `Mount: ${mountID}`;

    return '';
}

function scheduleNowPlayingMarqueeUpdate() {
    requestAnimationFrame(() => {
        requestAnimationFrame(() => {
            updateDashboardNowPlayingMarquee();
        });
    });
    setTimeout(updateDashboardNowPlayingMarquee, 60);
}

function updateDashboardNowPlayingMarquee() {
    const wrap = document.querySelector('#nowPlaying .dashboard-now-playing-track');
    const text = document.querySelector('#nowPlaying .dashboard-now-playing-text');
    if (!wrap || !text) return;

    wrap.classList.remove('is-scrolling');
    wrap.style.removeProperty('--np-scroll-distance');
    wrap.style.removeProperty('--np-scroll-duration');

    const overflow = text.scrollWidth - wrap.clientWidth;
    if (overflow <= 6) return;

    const travel = overflow + 20;
    const duration = Math.max(10, Math.min(40, Math.round(travel / 12)));
    wrap.style.setProperty('--np-scroll-distance', `${travel}px`);
    wrap.style.setProperty('--np-scroll-duration', `${duration}s`);
    wrap.classList.add('is-scrolling');
}

document.body.addEventListener('htmx:afterSwap', () => {
    scheduleNowPlayingMarqueeUpdate();
});

// Update health status indicators
function updateHealthStatus(data) {
    // Update any health indicators on the page
    const healthIndicators = document.querySelectorAll('[data-health-mount]');
    healthIndicators.forEach(el => {
        const mountId = el.dataset.healthMount;
        if (data.mount_id === mountId) {
            el.className = data.healthy ? 'badge bg-success' : 'badge bg-danger';
            el.textContent = data.healthy ? 'Healthy' : 'Error';
        }
    });
}

// Update webstream health status indicators
function updateWebstreamHealthStatus(data) {
    const indicators = document.querySelectorAll('[data-health-webstream]');
    indicators.forEach(el => {
        if (el.dataset.healthWebstream !== data.webstream_id) return;
        switch (data.status) {
            case 'healthy':
                el.className = el.classList.contains('fs-6') ? 'badge bg-success fs-6' : 'badge bg-success';
                el.textContent = 'Healthy';
                break;
            case 'degraded':
                el.className = el.classList.contains('fs-6') ? 'badge bg-warning fs-6' : 'badge bg-warning';
                el.textContent = 'Degraded';
                break;
            case 'unhealthy':
                el.className = el.classList.contains('fs-6') ? 'badge bg-danger fs-6' : 'badge bg-danger';
                el.textContent = 'Unhealthy';
                break;
            default:
                el.className = el.classList.contains('fs-6') ? 'badge bg-info fs-6' : 'badge bg-info';
                el.textContent = 'Checking...';
        }
    });
}

// Keyboard shortcuts
document.addEventListener('keydown', (e) => {
    // Ignore if typing in input
    if (e.target.tagName === 'INPUT' || e.target.tagName === 'TEXTAREA') {
        return;
    }

    // Ctrl+K - Quick search
    if (e.ctrlKey && e.key === 'k') {
        e.preventDefault();
        const searchModal = bootstrap.Modal.getOrCreateInstance(document.getElementById('searchModal'));
        searchModal.show();
        setTimeout(() => document.getElementById('globalSearch')?.focus(), 100);
        return;
    }

    // ? - Help
    if (e.key === '?') {
        const shortcutsModal = bootstrap.Modal.getOrCreateInstance(document.getElementById('shortcutsModal'));
        shortcutsModal.show();
        return;
    }

    // G-key navigation
    if (e.key === 'g' && !window.gKeyPressed) {
        window.gKeyPressed = true;
        setTimeout(() => { window.gKeyPressed = false; }, 500);
        return;
    }

    if (window.gKeyPressed) {
        switch (e.key) {
            case 'd': window.location.href = '/dashboard'; break;
            case 'm': window.location.href = '/dashboard/media'; break;
            case 's': window.location.href = '/dashboard/schedule'; break;
            case 'l': window.location.href = '/dashboard/live'; break;
            case 'a': window.location.href = '/dashboard/analytics'; break;
        }
        window.gKeyPressed = false;
    }
});

// Toast notifications
function showToast(message, type = 'info') {
    const container = document.getElementById('toastContainer');
    if (!container) return;

    const icons = {
        success: 'bi-check-circle',
        error: 'bi-exclamation-circle',
        warning: 'bi-exclamation-triangle',
        info: 'bi-info-circle'
    };

    const toast = document.createElement('div');
    toast.className = 'toast show';
    toast.setAttribute('role', 'alert');
    toast.innerHTML = `
        <div class="toast-header bg-${type === 'error' ? 'danger' : type}">
            <i class="bi ${icons[type]} me-2"></i>
            <strong class="me-auto">Notification</strong>
            <button type="button" class="btn-close" data-bs-dismiss="toast"></button>
        </div>
        <div class="toast-body">${message}</div>
    `;

    container.appendChild(toast);

    // Auto-remove after 5 seconds
    setTimeout(() => {
        toast.classList.remove('show');
        setTimeout(() => toast.remove(), 300);
    }, 5000);
}

// HTMX event handlers
document.body.addEventListener('htmx:afterRequest', (e) => {
    // Handle errors
    if (e.detail.failed) {
        const xhr = e.detail.xhr;
        let message = 'An error occurred';

        try {
            const response = JSON.parse(xhr.responseText);
            message = response.error || response.message || message;
        } catch {
            if (xhr.status === 401) {
                message = 'Session expired. Please log in again.';
                setTimeout(() => window.location.href = '/login', 1000);
            } else if (xhr.status === 403) {
                message = 'Access denied';
            } else if (xhr.status === 404) {
                message = 'Not found';
            }
        }

        showToast(message, 'error');
    }
});

// Handle page content swaps (SPA navigation)
document.body.addEventListener('htmx:afterSwap', (e) => {
    // Always update any local datetime placeholders in swapped content.
    try {
        grimnirUpdateLocalDateTimes(e.detail?.target || document);
    } catch (_) {
        // non-fatal
    }

    // Only handle page-level swaps
    if (e.detail.target.id === 'page-content') {
        // Re-initialize Bootstrap tooltips
        const tooltips = document.querySelectorAll('[data-bs-toggle="tooltip"]');
        tooltips.forEach(el => {
            const existing = bootstrap.Tooltip.getInstance(el);
            if (existing) existing.dispose();
            new bootstrap.Tooltip(el);
        });

        // Re-initialize upload zones if any
        document.querySelectorAll('.upload-zone').forEach(initUploadZone);

        // Trigger any page-specific initialization
        document.dispatchEvent(new CustomEvent('grimnir:pageLoad'));

        // Re-run any inline scripts in the new content
        // Note: HTMX handles <script> tags in swapped content automatically

        // Update document title from the page content if available
        const titleEl = document.querySelector('[data-page-title]');
        if (titleEl) {
            document.title = titleEl.dataset.pageTitle + ' - Grimnir Radio';
        }

        // Close any open modals
        const openModals = document.querySelectorAll('.modal.show');
        openModals.forEach(modal => {
            const instance = bootstrap.Modal.getInstance(modal);
            if (instance) instance.hide();
        });

        // Scroll to top
        window.scrollTo(0, 0);
    }
});

document.body.addEventListener('htmx:beforeRequest', (e) => {
    // Add loading indicator
    const target = e.detail.elt;
    if (target.dataset.loadingText) {
        target.dataset.originalText = target.textContent;
        target.textContent = target.dataset.loadingText;
        target.disabled = true;
    }
});

document.body.addEventListener('htmx:afterRequest', (e) => {
    // Remove loading indicator
    const target = e.detail.elt;
    if (target.dataset.originalText) {
        target.textContent = target.dataset.originalText;
        target.disabled = false;
        delete target.dataset.originalText;
    }
});

// File upload handling with progress
function initUploadZone(element) {
    const input = element.querySelector('input[type="file"]');
    const progress = element.querySelector('.progress');
    const progressBar = element.querySelector('.progress-bar');

    element.addEventListener('dragover', (e) => {
        e.preventDefault();
        element.classList.add('dragover');
    });

    element.addEventListener('dragleave', () => {
        element.classList.remove('dragover');
    });

    element.addEventListener('drop', (e) => {
        e.preventDefault();
        element.classList.remove('dragover');

        const files = e.dataTransfer.files;
        if (files.length > 0) {
            handleFiles(files);
        }
    });

    element.addEventListener('click', () => {
        input.click();
    });

    input.addEventListener('change', () => {
        if (input.files.length > 0) {
            handleFiles(input.files);
        }
    });

    function handleFiles(files) {
        Array.from(files).forEach(file => {
            uploadFile(file);
        });
    }

    function uploadFile(file) {
        const formData = new FormData();
        formData.append('file', file);

        if (progress) {
            progress.classList.remove('d-none');
        }

        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/dashboard/media/upload');
        if (typeof window.grimnirAttachCSRF === 'function') {
            window.grimnirAttachCSRF(xhr, 'POST');
        }

        xhr.upload.addEventListener('progress', (e) => {
            if (e.lengthComputable && progressBar) {
                const percent = (e.loaded / e.total) * 100;
                progressBar.style.width = percent + '%';
                progressBar.textContent = Math.round(percent) + '%';
            }
        });

        xhr.addEventListener('load', () => {
            if (progress) {
                progress.classList.add('d-none');
                progressBar.style.width = '0%';
            }

            if (xhr.status >= 200 && xhr.status < 300) {
                showToast(`${file.name} uploaded successfully`, 'success');
                // Refresh media list
                htmx.trigger(document.body, 'mediaUploaded');
            } else {
                showToast(`Failed to upload ${file.name}`, 'error');
            }
        });

        xhr.addEventListener('error', () => {
            if (progress) {
                progress.classList.add('d-none');
            }
            showToast(`Failed to upload ${file.name}`, 'error');
        });

        xhr.send(formData);
    }
}

// Initialize upload zones
document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('.upload-zone').forEach(initUploadZone);
});

// Global Audio Player - Floating & Draggable
class GlobalPlayer {
    constructor() {
        this.audio = new Audio();
        this.currentTrack = null;
        this.playlist = [];
        this.playlistIndex = 0;
        this.isLive = false;
        this.isLiveDJ = false;
        this.isMinimized = false;

        this.webrtcCfg = window.GRIMNIR_WEBRTC || {};
        this.webrtcEnabled = this.webrtcCfg.enabled === true;
        this.webrtcFailureCooldownMs = 5 * 60 * 1000;
        // How long a live stream may sit stalled/buffering before the player
        // gives up waiting and reconnects. Long enough that an ordinary rebuffer
        // recovers untouched, short enough that a real drop is not mistaken for
        // dead air by the listener.
        this.liveStallTimeoutMs = 8000;
        this.stalledTimer = null;
        this.reconnectTimer = null;
        this.isReconnecting = false;
        this.reconnectAttempts = 0;
        // wantsLivePlayback records listener INTENT, which is what separates a
        // drop worth recovering from a deliberate pause. Only an explicit pause
        // or close clears it; every automatic path leaves it alone.
        this.wantsLivePlayback = false;
        // Progress watchdog. A live <audio> element can sit reporting "playing"
        // while currentTime never advances, which no media event fires for, so
        // silence looks perfectly healthy. Poll instead.
        this.liveWatchdogTimer = null;
        this.liveWatchdogIntervalMs = 5000;
        this.lastProgressAt = 0;
        this.lastCurrentTime = -1;
        // How long currentTime may stand still before we treat it as dead.
        this.liveNoProgressMs = 12000;
        // Standby connection. A dropped live socket is silent only once the
        // element runs out of buffered audio, and that drain time is the window
        // to rebuild the stream out of earshot: open a second element, let it
        // buffer while the first one finishes what it has, and swap when the
        // listener would otherwise hear the gap.
        this.standbyAudio = null;
        this.standbyReady = false;
        this.standbyTimer = null;
        // Wait before opening the standby so a rebuffer that recovers on its own
        // never costs a second connection to the station.
        this.standbyPrewarmDelayMs = 1200;
        // Set if a promoted standby was stopped by autoplay policy on unmute.
        // Safari can do this, and once it does the trick is off for the session.
        this.standbySwapBlocked = false;
        this.standbyFadeMs = 180;
        this.lastStallAt = 0;
        // How long audio must flow after the last sign of trouble before the
        // spare connection is written off. Deliberately under the broadcast
        // server's 10s establishment threshold (establishSeconds in
        // internal/broadcast/server.go), so a standby that never gets used is
        // gone before it could be counted as a second listener.
        this.standbyIdleDropMs = 8000;
        // Delay before the second line admits to buffering. Flipping the text on
        // every 300ms rebuffer is more noticeable than the rebuffer.
        this.bufferingTextTimer = null;
        this.bufferingTextDelayMs = 1200;
        this.webrtcFailureUntil = Number(localStorage.getItem('grimnir-webrtc-disabled-until') || '0') || 0;
        // Default to plain HTTP streaming. WebRTC is still selectable from the
        // transport menu, but it needs a signaling WebSocket, and the websocket
        // path to the edge is where the observed listener drops occur.
        this.liveTransport = localStorage.getItem('grimnir-live-transport') || 'http';
        if (!this.webrtcEnabled || Date.now() < this.webrtcFailureUntil) {
            this.liveTransport = 'http';
            localStorage.setItem('grimnir-live-transport', 'http');
        }
        this.peerConnection = null;
        this.signalingWs = null;
        this.useWebRTC = false;  // Currently using WebRTC vs HTTP

        // Drag state
        this.isDragging = false;
        this.dragOffset = { x: 0, y: 0 };

        // DOM elements
        this.container = document.getElementById('globalPlayer');
        this.playPauseBtn = document.getElementById('playerPlayPause');
        this.playIcon = document.getElementById('playerPlayIcon');
        this.prevBtn = document.getElementById('playerPrev');
        this.nextBtn = document.getElementById('playerNext');
        this.closeBtn = document.getElementById('playerClose');
        this.minimizeBtn = document.getElementById('playerMinimize');
        this.dragHandle = document.getElementById('playerDragHandle');
        this.progressBar = document.getElementById('globalPlayerProgressBar');
        this.progressContainer = document.getElementById('globalPlayerProgress');
        this.volumeSlider = document.getElementById('playerVolume');
        this.titleEl = document.getElementById('playerTitle');
        this.artistEl = document.getElementById('playerArtist');
        this.artworkEl = document.getElementById('playerArtwork');
        this.currentTimeEl = document.getElementById('playerCurrentTime');
        this.durationEl = document.getElementById('playerDuration');
        this.stationSelector = document.getElementById('playerStationSelector');
        this.stationMenu = document.getElementById('playerStationMenu');
        this.transportSelector = document.getElementById('playerTransportSelector');
        this.transportMenu = document.getElementById('playerTransportMenu');
        this.titleAutoScrollRaf = null;
        this.titleScrollPxPerSecond = 10;
        this.artistAutoScrollRaf = null;
        this.failedArtworkIds = new Set();
        this.listenersEl = document.getElementById('playerListeners');
        this.listenerCountEl = document.getElementById('playerListenerCount');
        this.listenerPollInterval = null;

        // Cached stations for quick switching
        this.publicStations = [];

        this.init();
    }

    init() {
        if (!this.container) return;

        // Held as one map so the whole set can move to the standby element when
        // it takes over. suspend/abort are the quieter cousins of stalled and
        // waiting: the browser stopped fetching, which for a live stream is a
        // stall no matter what the element calls it.
        this.audioHandlers = {
            play: () => this.onPlay(),
            pause: () => this.onPause(),
            ended: () => this.onEnded(),
            timeupdate: () => this.onTimeUpdate(),
            loadedmetadata: () => this.onLoadedMetadata(),
            error: (e) => this.onError(e),
            stalled: () => this.onStalled(),
            waiting: () => this.onWaiting(),
            playing: () => this.onPlaying(),
            suspend: () => this.onSuspend(),
            abort: () => this.onSuspend(),
        };
        this.bindAudioElement(this.audio);

        // A backgrounded tab gets its timers throttled and its socket may be
        // dropped entirely; a sleeping laptop wakes with a dead stream. Re-check
        // as soon as the tab is visible again.
        document.addEventListener('visibilitychange', () => {
            if (document.visibilityState === 'visible') this.verifyLivePlayback('tab visible');
        });
        // Network came back: retry now instead of waiting out the backoff.
        window.addEventListener('online', () => this.verifyLivePlayback('network online'));
        // Network went away: stop burning retries until it returns.
        window.addEventListener('offline', () => {
            if (this.isLive) this.setSecondaryText('Offline - waiting for network...');
        });

        // Preload setting for better buffering
        this.audio.preload = 'auto';

        // Set up control listeners
        this.playPauseBtn?.addEventListener('click', () => this.togglePlayPause());
        this.prevBtn?.addEventListener('click', () => this.prev());
        this.nextBtn?.addEventListener('click', () => this.next());
        this.closeBtn?.addEventListener('click', () => this.close());
        this.minimizeBtn?.addEventListener('click', () => this.toggleMinimize());

        // Progress bar seeking
        this.progressContainer?.addEventListener('click', (e) => this.seek(e));

        // Volume control
        this.volumeSlider?.addEventListener('input', (e) => {
            this.audio.volume = e.target.value / 100;
            localStorage.setItem('grimnir-volume', e.target.value);
        });

        // Restore volume from localStorage
        const savedVolume = localStorage.getItem('grimnir-volume');
        if (savedVolume) {
            this.audio.volume = savedVolume / 100;
            if (this.volumeSlider) this.volumeSlider.value = savedVolume;
        }

        // Set up drag functionality
        this.initDrag();

        // Restore position from localStorage
        this.restorePosition();

        // Restore last playing track from sessionStorage
        this.restoreState();

        // Recalculate marquee when viewport changes
        window.addEventListener('resize', () => this.updateTitleMarquee());
        window.addEventListener('load', () => {
            this.scheduleTitleMarqueeUpdate();
            this.scheduleArtistMarqueeUpdate();
        });
        if (document.fonts && document.fonts.ready) {
            document.fonts.ready.then(() => {
                this.scheduleTitleMarqueeUpdate();
                this.scheduleArtistMarqueeUpdate();
            }).catch(() => {});
        }
        // Title drag-to-scroll removed — auto-scroll only

        // Save state when navigating away
        window.addEventListener('beforeunload', () => {
            this.saveState();
        });

        // Also save state periodically for live streams
        setInterval(() => {
            if (this.currentTrack && !this.audio.paused) {
                this.saveState();
            }
        }, 5000);

        // Load public stations for the station selector
        this.loadPublicStations();
    }

    stopTitleAutoScroll() {
        if (this.titleAutoScrollRaf) {
            cancelAnimationFrame(this.titleAutoScrollRaf);
            this.titleAutoScrollRaf = null;
        }
        const span = this.titleEl && this.titleEl.querySelector('.title-scroll');
        if (span) span.style.transform = '';
    }

    startTitleAutoScroll() {
        if (!this.titleEl) return;

        this.stopTitleAutoScroll();
        const span = this.titleEl.querySelector('.title-scroll');
        if (!span) return;

        let offset = 0;
        let lastTs = 0;
        let holdUntil = Date.now() + 1200;
        let direction = 1; // 1 = scrolling right, -1 = scrolling back left

        const tick = (ts) => {
            this.titleAutoScrollRaf = requestAnimationFrame(tick);

            const maxScroll = span.offsetWidth - this.titleEl.clientWidth;
            if (maxScroll <= 4) return;

            if (!lastTs) {
                lastTs = ts;
                return;
            }

            const now = Date.now();
            if (now < holdUntil) {
                lastTs = ts;
                return;
            }

            const dt = (ts - lastTs) / 1000;
            lastTs = ts;
            offset += dt * this.titleScrollPxPerSecond * direction;

            if (offset >= maxScroll) {
                offset = maxScroll;
                direction = -1;
                holdUntil = now + 1500;
            } else if (offset <= 0) {
                offset = 0;
                direction = 1;
                holdUntil = now + 1500;
            }

            span.style.transform = `translateX(-${offset}px)`;
        };

        this.titleAutoScrollRaf = requestAnimationFrame(tick);
    }

    async loadPublicStations() {
        try {
            const response = await fetch('/api/v1/public/stations');
            if (response.ok) {
                const stations = await response.json();
                this.publicStations = this.applyPreferredStationOrder(stations);
                this.updateTransportMenu();
                this.updateStationMenu();
            }
        } catch (e) {
            console.debug('Failed to load public stations:', e);
        }
    }

    applyPreferredStationOrder(stations) {
        if (!Array.isArray(stations)) return [];
        const preferred = Array.isArray(window.GRIMNIR_STATION_ORDER) ? window.GRIMNIR_STATION_ORDER : [];
        if (preferred.length === 0) return stations;

        const rank = new Map();
        preferred.forEach((id, idx) => rank.set(id, idx));
        return [...stations].sort((a, b) => {
            const ra = rank.has(a.id) ? rank.get(a.id) : Number.MAX_SAFE_INTEGER;
            const rb = rank.has(b.id) ? rank.get(b.id) : Number.MAX_SAFE_INTEGER;
            if (ra !== rb) return ra - rb;
            return (a.name || '').localeCompare(b.name || '');
        });
    }

    updateTransportMenu() {
        if (!this.transportMenu) return;

        const transport = this.getLiveTransport();
        const lowLatencyDisabled = !this.canUseWebRTC();
        const lowLatencyHint = this.webrtcEnabled
            ? 'Low Latency (WebRTC)'
            : 'Low Latency (Unavailable)';
        this.transportMenu.innerHTML = `
            <li>
                <a class="dropdown-item small ${transport === 'http' ? 'active' : ''}" href="#"
                   onclick="globalPlayer.setLiveTransport('http'); return false;">
                    <i class="bi bi-check2 ${transport === 'http' ? '' : 'invisible'} me-1"></i>Standard (HTTP)
                </a>
            </li>
            <li>
                <a class="dropdown-item small ${transport === 'webrtc' ? 'active' : ''} ${lowLatencyDisabled ? 'disabled' : ''}" href="#"
                   onclick="globalPlayer.setLiveTransport('webrtc'); return false;">
                    <i class="bi bi-check2 ${transport === 'webrtc' ? '' : 'invisible'} me-1"></i>${lowLatencyHint}
                </a>
            </li>
        `;
    }

    updateStationMenu() {
        if (!this.stationMenu) return;

        if (this.publicStations.length === 0) {
            this.stationMenu.innerHTML = '<li><span class="dropdown-item-text text-body-secondary small">No stations available</span></li>';
            return;
        }

        let html = '';
        for (const station of this.publicStations) {
            if (station.mounts && station.mounts.length > 0) {
                html += `<li><h6 class="dropdown-header">${this.escapeHtml(station.name)}</h6></li>`;
                for (const mount of station.mounts) {
                    const quality = mount.bitrate ? ` (${mount.bitrate}kbps)` : '';
                    html += `<li><a class="dropdown-item small" href="#" onclick="globalPlayer.switchToStation('${station.id}', '${mount.url}', '${this.escapeHtml(station.name)}'); return false;">
                        <i class="bi bi-play-fill me-1"></i>${this.escapeHtml(mount.name)}${quality}
                    </a></li>`;
                }
            }
        }

        if (html) {
            this.stationMenu.innerHTML = html;
        } else {
            this.stationMenu.innerHTML = '<li><span class="dropdown-item-text text-body-secondary small">No stations available</span></li>';
        }
    }

    escapeHtml(str) {
        if (!str) return '';
        return str.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    }

    switchToStation(stationId, mountUrl, stationName) {
        // Hard-reset current playback state before switching streams.
        this.stopMetadataPolling();
        this.stopLiveTimeTicker();
        this.audio.pause();
        this.audio.removeAttribute('src');
        this.audio.srcObject = null;
        this.audio.load();
        this.closeWebRTC();

        this.playLive(mountUrl, stationName, stationId, {
            transport: this.getLiveTransport()
        });
    }

    setLiveTransport(mode) {
        const next = mode === 'webrtc' && this.canUseWebRTC() ? 'webrtc' : 'http';
        this.liveTransport = next;
        localStorage.setItem('grimnir-live-transport', next);
        this.updateTransportMenu();
    }

    getLiveTransport() {
        if (this.liveTransport === 'webrtc' && this.canUseWebRTC()) return 'webrtc';
        return 'http';
    }

    canUseWebRTC() {
        return this.webrtcEnabled && Date.now() >= this.webrtcFailureUntil;
    }

    markWebRTCUnavailable(reason) {
        this.webrtcFailureUntil = Date.now() + this.webrtcFailureCooldownMs;
        localStorage.setItem('grimnir-webrtc-disabled-until', String(this.webrtcFailureUntil));
        if (this.liveTransport === 'webrtc') {
            this.liveTransport = 'http';
            localStorage.setItem('grimnir-live-transport', 'http');
        }
        this.updateTransportMenu();
        if (reason) console.log('WebRTC temporarily disabled:', reason);
    }

    initDrag() {
        if (!this.dragHandle || !this.container) return;

        this.dragHandle.addEventListener('mousedown', (e) => this.startDrag(e));
        this.dragHandle.addEventListener('touchstart', (e) => this.startDrag(e), { passive: false });

        document.addEventListener('mousemove', (e) => this.onDrag(e));
        document.addEventListener('touchmove', (e) => this.onDrag(e), { passive: false });

        document.addEventListener('mouseup', () => this.endDrag());
        document.addEventListener('touchend', () => this.endDrag());
    }

    startDrag(e) {
        if (e.target.closest('button')) return; // Don't drag when clicking buttons

        this.isDragging = true;
        this.container.classList.add('dragging');

        const rect = this.container.getBoundingClientRect();
        const clientX = e.touches ? e.touches[0].clientX : e.clientX;
        const clientY = e.touches ? e.touches[0].clientY : e.clientY;

        this.dragOffset = {
            x: clientX - rect.left,
            y: clientY - rect.top
        };

        e.preventDefault();
    }

    onDrag(e) {
        if (!this.isDragging) return;

        const clientX = e.touches ? e.touches[0].clientX : e.clientX;
        const clientY = e.touches ? e.touches[0].clientY : e.clientY;

        let x = clientX - this.dragOffset.x;
        let y = clientY - this.dragOffset.y;

        // Constrain to viewport
        const rect = this.container.getBoundingClientRect();
        const maxX = window.innerWidth - rect.width;
        const maxY = window.innerHeight - rect.height;

        x = Math.max(0, Math.min(x, maxX));
        y = Math.max(0, Math.min(y, maxY));

        this.container.style.left = x + 'px';
        this.container.style.top = y + 'px';
        this.container.style.right = 'auto';
        this.container.style.bottom = 'auto';

        e.preventDefault();
    }

    endDrag() {
        if (!this.isDragging) return;
        this.isDragging = false;
        this.container.classList.remove('dragging');
        this.savePosition();
    }

    savePosition() {
        if (!this.container) return;
        const rect = this.container.getBoundingClientRect();
        localStorage.setItem('grimnir-player-position', JSON.stringify({
            x: rect.left,
            y: rect.top
        }));
    }

    restorePosition() {
        const pos = localStorage.getItem('grimnir-player-position');
        if (pos && this.container) {
            try {
                const { x, y } = JSON.parse(pos);
                // Verify position is still valid
                if (x >= 0 && x < window.innerWidth - 100 && y >= 0 && y < window.innerHeight - 100) {
                    this.container.style.left = x + 'px';
                    this.container.style.top = y + 'px';
                    this.container.style.right = 'auto';
                    this.container.style.bottom = 'auto';
                }
            } catch (e) {
                console.error('Failed to restore player position:', e);
            }
        }
    }

    toggleMinimize() {
        this.isMinimized = !this.isMinimized;
        this.container?.classList.toggle('minimized', this.isMinimized);
        if (this.minimizeBtn) {
            const icon = this.minimizeBtn.querySelector('i');
            if (icon) {
                icon.classList.toggle('bi-dash-lg', !this.isMinimized);
                icon.classList.toggle('bi-plus-lg', this.isMinimized);
            }
        }
        if (!this.isMinimized) {
            this.scheduleTitleMarqueeUpdate();
            this.scheduleArtistMarqueeUpdate();
        }
    }

    play(track) {
        // track: { url, title, artist, artwork, id, type: 'media'|'live'|'playlist' }
        // Whatever is being played now, a standby held for the previous one is
        // pointed at a stream nobody is listening to.
        this.dropStandbyStream('new track');
        this.currentTrack = track;
        this.isLive = track.type === 'live';
        this.isLiveDJ = false;
        this.audio.src = track.url;
        this.audio.play().catch(e => console.error('Play error:', e));

        this.updateUI();
        this.show();
        this.saveState();
    }

    playMedia(id, title, artist, artworkUrl) {
        this.play({
            url: `/dashboard/media/${id}/stream`,
            title: title || 'Unknown Track',
            artist: artist || '',
            artwork: artworkUrl || `/dashboard/media/${id}/artwork`,
            id: id,
            type: 'media'
        });
    }

    playLive(url, stationName, stationId, options = {}) {
        // Guard against empty URLs
        if (!url) {
            console.warn('playLive called with empty URL');
            return;
        }

        // A standby opened for the station being left behind must not survive the
        // switch; it streams the old mount and would be promoted onto it.
        this.dropStandbyStream('station changed');

        // Check if this is already an LQ stream (user selected LQ quality)
        // Simple check: URL contains -lq in the path
        const isLQStream = url.includes('/live/') && url.includes('-lq');

        // Determine LQ URL for HTTP fallback (append -lq to mount name)
        // e.g., /live/main -> /live/main-lq
        // But don't double it if URL already ends with -lq
        let lqUrl = url;
        if (url.includes('/live/') && !isLQStream) {
            lqUrl = url.replace(/\/live\/([^/?]+)/, '/live/$1-lq');
        }

        this.currentTrack = {
            url: url,        // HQ URL (for reference)
            lqUrl: lqUrl,    // LQ URL (for HTTP streaming)
            title: stationName || 'Live Stream',
            artist: stationName || 'Connecting...',
            artwork: null,
            id: null,
            type: 'live',
            stationId: stationId,
            stationName: stationName || ''
        };
        this.isLive = true;
        this.isLiveDJ = false;
        this.wantsLivePlayback = true;
        this.startLiveWatchdog();
        this._trackStarted = null;
        this._trackEnded = null;
        this._trackDuration = 0;
        this._trackEndRefreshPending = false;
        if (this.currentTimeEl) this.currentTimeEl.textContent = '0:00';
        if (this.durationEl) this.durationEl.textContent = '--:--';
        if (this.progressBar) this.progressBar.style.width = '0%';
        this.updateUI();
        this.show();

        // If LQ stream selected, skip WebRTC and use HTTP directly
        if (isLQStream) {
            console.log('LQ stream selected, using HTTP directly');
            this.fallbackToHTTP(url);
            this.startMetadataPolling();
            this.startListenerPolling();
            return;
        }

        const transport = options.transport || this.getLiveTransport();
        const useWebRTCTransport = transport === 'webrtc';

        // Try WebRTC only when explicitly selected.
        if (useWebRTCTransport && this.canUseWebRTC() && 'RTCPeerConnection' in window) {
            this.connectWebRTC(stationId).then(connected => {
                if (!connected) {
                    // Fall back to HTTP LQ streaming immediately
                    console.log('WebRTC failed, falling back to HTTP LQ streaming');
                    this.markWebRTCUnavailable('signaling failed');
                    this.fallbackToHTTP(lqUrl);
                }
            }).catch(err => {
                console.log('WebRTC error, falling back to HTTP LQ:', err);
                this.markWebRTCUnavailable('connect error');
                this.fallbackToHTTP(lqUrl);
            });
        } else {
            // Default path: HTTP streaming
            this.fallbackToHTTP(lqUrl);
        }

        // Start fetching now-playing metadata and listener count
        this.startMetadataPolling();
        this.startListenerPolling();
    }

    fallbackToHTTP(url) {
        this.useWebRTC = false;
        this.closeWebRTC();

        // Guard against empty URLs
        if (!url) {
            console.warn('fallbackToHTTP called with empty URL');
            return;
        }

        // Fully reset audio element to avoid stale buffer issues
        this.audio.pause();
        this.audio.removeAttribute('src');
        this.audio.load();  // Reset internal state

        // Add cache-busting timestamp to prevent browser caching
        const cacheBustUrl = url.includes('?')
            ? `${url}&_t=${Date.now()}`
            : `${url}?_t=${Date.now()}`;

        this.audio.src = cacheBustUrl;
        this.audio.play().catch(e => console.error('HTTP play error:', e));
    }

    async connectWebRTC(stationId) {
        // Close any existing connection
        this.closeWebRTC();

        return new Promise((resolve) => {
            const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
            const qs = stationId ? `?station_id=${encodeURIComponent(stationId)}` : '';
            const signalingUrl = `${protocol}//${window.location.host}/webrtc/signal${qs}`;

            console.log('Connecting to WebRTC signaling:', signalingUrl);

            this.signalingWs = new WebSocket(signalingUrl);
            let connected = false;
            let timeoutId;

            // Timeout after 10 seconds
            timeoutId = setTimeout(() => {
                if (!connected) {
                    console.log('WebRTC connection timeout');
                    this.closeWebRTC();
                    this.markWebRTCUnavailable('timeout');
                    resolve(false);
                }
            }, 10000);

            this.signalingWs.onopen = () => {
                console.log('WebRTC signaling connected');
            };

            this.signalingWs.onmessage = async (event) => {
                try {
                    const msg = JSON.parse(event.data);

                    switch (msg.type) {
                        case 'offer':
                            // Create peer connection and handle offer
                            const success = await this.handleWebRTCOffer(msg.sdp);
                            if (success) {
                                connected = true;
                                clearTimeout(timeoutId);
                                this.useWebRTC = true;
                                resolve(true);
                            } else {
                                clearTimeout(timeoutId);
                                resolve(false);
                            }
                            break;

                        case 'candidate':
                            if (this.peerConnection && msg.candidate) {
                                try {
                                    await this.peerConnection.addIceCandidate(msg.candidate);
                                } catch (e) {
                                    console.debug('Failed to add ICE candidate:', e);
                                }
                            }
                            break;

                        case 'error':
                            console.error('WebRTC signaling error:', msg.error);
                            clearTimeout(timeoutId);
                            this.markWebRTCUnavailable(msg.error || 'signaling rejected');
                            resolve(false);
                            break;
                    }
                } catch (e) {
                    console.error('Failed to parse signaling message:', e);
                }
            };

            this.signalingWs.onerror = (error) => {
                console.log('WebRTC signaling error:', error);
                clearTimeout(timeoutId);
                this.markWebRTCUnavailable('socket error');
                resolve(false);
            };

            this.signalingWs.onclose = () => {
                console.log('WebRTC signaling closed');
                if (!connected) {
                    clearTimeout(timeoutId);
                    this.markWebRTCUnavailable('socket closed');
                    resolve(false);
                }
            };
        });
    }

    async handleWebRTCOffer(offer) {
        try {
            // Build ICE servers from server-provided config
            const iceServers = [];

            // Use server-provided STUN/TURN config if available
            const webrtcCfg = this.webrtcCfg || {};

            // Add STUN server
            if (webrtcCfg.stunUrl) {
                iceServers.push({ urls: webrtcCfg.stunUrl });
            } else {
                // Fallback to Google STUN
                iceServers.push({ urls: 'stun:stun.l.google.com:19302' });
            }

            // Add TURN server if configured
            if (webrtcCfg.turnUrl) {
                iceServers.push({
                    urls: webrtcCfg.turnUrl,
                    username: webrtcCfg.turnUsername || '',
                    credential: webrtcCfg.turnPassword || ''
                });
            }

            const config = {
                iceServers,
                // Force relay to test TURN server (remove after testing)
                // iceTransportPolicy: 'relay'
            };

            console.log('WebRTC ICE config:', JSON.stringify(config, null, 2));

            this.peerConnection = new RTCPeerConnection(config);

            // Set up audio element to receive the track
            this.peerConnection.ontrack = (event) => {
                console.log('WebRTC received audio track');
                if (event.streams && event.streams[0]) {
                    this.audio.srcObject = event.streams[0];
                    this.audio.play().then(() => {
                        console.log('WebRTC audio playing');
                        if (this.artistEl) {
                            this.setSecondaryText(this.getLiveSecondaryText());
                        }
                    }).catch(e => console.error('WebRTC play error:', e));
                }
            };

            // Send ICE candidates to server
            this.peerConnection.onicecandidate = (event) => {
                if (event.candidate && this.signalingWs?.readyState === WebSocket.OPEN) {
                    this.signalingWs.send(JSON.stringify({
                        type: 'candidate',
                        candidate: event.candidate.toJSON()
                    }));
                }
            };

            // Monitor connection state
            this.peerConnection.onconnectionstatechange = () => {
                const state = this.peerConnection?.connectionState;
                console.log('WebRTC connection state:', state);

                if (state === 'connected') {
                    this._webrtcReconnectAttempts = 0;
                    if (this.artistEl && this.currentTrack) {
                        this.setSecondaryText(this.getLiveSecondaryText());
                    }
                } else if (state === 'failed' || state === 'disconnected') {
                    // WebRTC failed - fall back to HTTP immediately (no retries)
                    if (this.currentTrack && this.isLive) {
                        console.log('WebRTC connection failed, falling back to HTTP LQ immediately');
                        this.markWebRTCUnavailable(`peer ${state}`);
                        this.fallbackToHTTP(this.currentTrack.lqUrl || this.currentTrack.url);
                    }
                }
            };

            // Set remote description (the offer)
            await this.peerConnection.setRemoteDescription(new RTCSessionDescription(offer));

            // Create and send answer
            const answer = await this.peerConnection.createAnswer();
            await this.peerConnection.setLocalDescription(answer);

            // Send answer to server
            if (this.signalingWs?.readyState === WebSocket.OPEN) {
                this.signalingWs.send(JSON.stringify({
                    type: 'answer',
                    sdp: this.peerConnection.localDescription
                }));
            }

            return true;
        } catch (e) {
            console.error('WebRTC offer handling failed:', e);
            this.closeWebRTC();
            return false;
        }
    }

    closeWebRTC() {
        if (this.peerConnection) {
            this.peerConnection.close();
            this.peerConnection = null;
        }
        if (this.signalingWs) {
            this.signalingWs.close();
            this.signalingWs = null;
        }
        // Clear srcObject if it was set
        if (this.audio.srcObject) {
            this.audio.srcObject = null;
        }
        this.useWebRTC = false;
    }

    startMetadataPolling() {
        // Clear any existing interval
        if (this.metadataInterval) {
            clearInterval(this.metadataInterval);
        }

        // Fetch immediately
        this.fetchNowPlayingMetadata();

        // Then poll every 15 seconds
        this.metadataInterval = setInterval(() => {
            if (this.isLive && !this.audio.paused) {
                this.fetchNowPlayingMetadata();
            }
        }, 15000);
    }

    stopMetadataPolling() {
        if (this.metadataInterval) {
            clearInterval(this.metadataInterval);
            this.metadataInterval = null;
        }
    }

    startListenerPolling() {
        if (this.listenerPollInterval) {
            clearInterval(this.listenerPollInterval);
        }
        this.fetchListenerCount();
        this.listenerPollInterval = setInterval(() => {
            if (this.isLive) this.fetchListenerCount();
        }, 15000);
    }

    stopListenerPolling() {
        if (this.listenerPollInterval) {
            clearInterval(this.listenerPollInterval);
            this.listenerPollInterval = null;
        }
        if (this.listenersEl) this.listenersEl.style.display = 'none';
    }

    fetchListenerCount() {
        fetch('/api/v1/public/listeners')
            .then(r => r.ok ? r.json() : null)
            .then(data => {
                if (!data || !this.listenerCountEl || !this.listenersEl) return;
                this.listenerCountEl.textContent = data.total;
                this.listenersEl.style.display = '';
            })
            .catch(() => {});
    }

    async fetchNowPlayingMetadata() {
        if (!this.isLive || !this.currentTrack) return;

        try {
            // Try to get station ID from the track or from the page
            let stationId = this.currentTrack.stationId;
            if (!stationId) {
                // Try to get from station selector
                const stationSelect = getStationSelectorElement();
                stationId = stationSelect?.value;
            }
            if (!stationId) {
                // Try to get from data attribute on body
                stationId = document.body.dataset.stationId;
            }
            if (!stationId) {
                // Try to find any station ID on the page
                const stationEl = document.querySelector('[data-station-id]');
                stationId = stationEl?.dataset.stationId;
            }

            // Fetch from the API
            const url = stationId
                ? `/api/v1/analytics/now-playing?station_id=${stationId}`
                : '/api/v1/analytics/now-playing';

            const response = await fetch(url);
            if (!response.ok) return;

            const data = await response.json();

            if (data && typeof data === 'object') {
                const displayTitle = this.buildLiveNowPlayingTitle(data);
                if (!displayTitle) return;

                // Update player UI with the track info
                this.setTitle(displayTitle);

                // Second line: station name (artist is already in the title line)
                this.setSecondaryText(this.getLiveSecondaryText());

                this.isLiveDJ = data.is_live_dj === true;
                if (this.container) {
                    this.container.classList.toggle('is-on-air', this.isLive);
                    this.container.classList.toggle('is-live-dj', this.isLive && this.isLiveDJ);
                    this.container.classList.remove('is-live');
                }

                // Update artwork if media_id is available
                if (this.artworkEl && data.media_id) {
                    this.updateNowPlayingArtwork(data.media_id);
                }

                // Store track timing info for local time updates
                if (this.isLiveDJ && data.session_started_at) {
                    // For live DJ, timer shows session duration (not per-track)
                    this._trackStarted = new Date(data.session_started_at);
                    this._trackEnded = null;
                    this._trackDuration = 0;
                } else if (data.started_at) {
                    this._trackStarted = new Date(data.started_at);
                    const endedAt = data.ended_at ? new Date(data.ended_at) : null;
                    const hasValidEnd = endedAt && endedAt.getFullYear() > 1970;
                    if (hasValidEnd) {
                        this._trackEnded = endedAt;
                        this._trackDuration = Math.floor((this._trackEnded - this._trackStarted) / 1000);
                    } else {
                        this._trackEnded = null;
                        this._trackDuration = 0;
                    }
                }

                // Also update the current track object
                this.currentTrack.title = displayTitle;
                this.currentTrack.artist = this.getLiveSecondaryText();
                if (this.resolveCurrentStationName()) this.currentTrack.stationName = this.resolveCurrentStationName();
                this.currentTrack.mediaId = data.media_id;

                // Start local time ticker if not already running
                this.startLiveTimeTicker();
            }
        } catch (e) {
            console.debug('Failed to fetch now-playing metadata:', e);
        }
    }

    buildLiveNowPlayingTitle(data) {
        const artist = (data.artist || '').toString().trim();
        const title = (data.title || '').toString().trim();

        if (data.is_live_dj === true) {
            // Live DJ: show song title from metadata, fallback to "Live DJ"
            return title || 'Live DJ';
        }
        // Automation: show "Artist - Title"
        if (artist && title) return `${artist} - ${title}`;
        if (title) return title;
        if (artist) return artist;
        return '';
    }

    resolveCurrentStationName() {
        if (this.currentTrack?.stationName) return this.currentTrack.stationName;

        const selected = getSelectedStationInfo();
        if (selected?.stationName) return selected.stationName;

        const stationId = this.currentTrack?.stationId;
        if (stationId && Array.isArray(this.publicStations)) {
            const station = this.publicStations.find((s) => s.id === stationId);
            if (station?.name) return station.name;
        }

        return '';
    }

    getLiveSecondaryText() {
        return this.resolveCurrentStationName() || 'On-Air';
    }

    resolveArtworkURL(mediaId) {
        const id = (mediaId || '').toString().trim();
        if (!id) return '';
        const path = window.location.pathname || '';
        if (path.startsWith('/dashboard')) {
            return `/dashboard/media/${id}/artwork`;
        }
        return `/media/${id}/artwork`;
    }

    updateNowPlayingArtwork(mediaId) {
        if (!this.artworkEl || !mediaId) return;
        const id = mediaId.toString();
        if (this.failedArtworkIds.has(id)) return;

        const artworkUrl = this.resolveArtworkURL(id);
        if (!artworkUrl) return;

        this.artworkEl.innerHTML = '';
        const img = document.createElement('img');
        img.src = artworkUrl;
        img.alt = '';
        img.addEventListener('error', () => {
            this.failedArtworkIds.add(id);
            this.artworkEl.innerHTML = '<i class="bi bi-broadcast"></i>';
        }, { once: true });
        this.artworkEl.appendChild(img);
    }

    setSecondaryText(text) {
        if (!this.artistEl) return;
        const next = (text || '').toString();

        let artistSpan = this.artistEl.querySelector('.artist-scroll');
        if (!artistSpan) {
            artistSpan = document.createElement('span');
            artistSpan.className = 'artist-scroll';
            this.artistEl.replaceChildren(artistSpan);
        }
        if (artistSpan.textContent === next) return;
        artistSpan.textContent = next;
        this.scheduleArtistMarqueeUpdate();
    }

    stopArtistAutoScroll() {
        if (this.artistAutoScrollRaf) {
            cancelAnimationFrame(this.artistAutoScrollRaf);
            this.artistAutoScrollRaf = null;
        }
        const span = this.artistEl && this.artistEl.querySelector('.artist-scroll');
        if (span) span.style.transform = '';
    }

    scheduleArtistMarqueeUpdate() {
        requestAnimationFrame(() => {
            requestAnimationFrame(() => {
                this.updateArtistMarquee();
            });
        });
        setTimeout(() => this.updateArtistMarquee(), 60);
    }

    updateArtistMarquee() {
        if (!this.artistEl) return;
        const artistSpan = this.artistEl.querySelector('.artist-scroll');
        if (!artistSpan) return;
        if (this.artistEl.clientWidth <= 0) {
            setTimeout(() => this.updateArtistMarquee(), 60);
            return;
        }

        this.stopArtistAutoScroll();

        const overflow = artistSpan.offsetWidth - this.artistEl.clientWidth;
        if (overflow <= 4) return;

        let offset = 0;
        let lastTs = 0;
        let holdUntil = Date.now() + 900;
        let direction = 1;

        const tick = (ts) => {
            this.artistAutoScrollRaf = requestAnimationFrame(tick);
            const max = artistSpan.offsetWidth - this.artistEl.clientWidth;
            if (max <= 4) return;
            if (!lastTs) {
                lastTs = ts;
                return;
            }

            const now = Date.now();
            if (now < holdUntil) {
                lastTs = ts;
                return;
            }

            const dt = (ts - lastTs) / 1000;
            lastTs = ts;
            offset += dt * 10 * direction;

            if (offset >= max) {
                offset = max;
                direction = -1;
                holdUntil = now + 1500;
            } else if (offset <= 0) {
                offset = 0;
                direction = 1;
                holdUntil = now + 1500;
            }

            artistSpan.style.transform = `translateX(-${offset}px)`;
        };

        this.artistAutoScrollRaf = requestAnimationFrame(tick);
    }

    startLiveTimeTicker() {
        // Stop existing ticker
        if (this._liveTimeTicker) {
            clearInterval(this._liveTimeTicker);
        }

        // Update time display every second
        this._liveTimeTicker = setInterval(() => {
            if (!this.isLive || !this._trackStarted) return;

            const now = new Date();
            const elapsed = Math.floor((now - this._trackStarted) / 1000);
            if (elapsed < 0) return;

            if (this.currentTimeEl) this.currentTimeEl.textContent = this.formatTime(elapsed);

            if (this._trackDuration > 0) {
                // Scheduled track with known duration
                if (this.durationEl) this.durationEl.textContent = this.formatTime(this._trackDuration);
                const pct = Math.min(100, (elapsed / this._trackDuration) * 100);
                if (this.progressBar) this.progressBar.style.width = pct + '%';
                if (elapsed > this._trackDuration && !this._trackEndRefreshPending) {
                    this._trackEndRefreshPending = true;
                    this.fetchNowPlayingMetadata().then(() => {
                        this._trackEndRefreshPending = false;
                    });
                }
            } else {
                // Live DJ — count up with "LIVE" label, no progress bar
                if (this.durationEl) this.durationEl.textContent = 'LIVE';
                if (this.progressBar) this.progressBar.style.width = '100%';
            }
        }, 1000);
    }

    stopLiveTimeTicker() {
        if (this._liveTimeTicker) {
            clearInterval(this._liveTimeTicker);
            this._liveTimeTicker = null;
        }
    }

    playPlaylist(items, startIndex = 0) {
        // items: [{ id, title, artist }]
        this.playlist = items;
        this.playlistIndex = startIndex;
        if (items.length > 0) {
            const item = items[startIndex];
            this.playMedia(item.id, item.title, item.artist);
        }
    }

    togglePlayPause() {
        if (this.audio.paused) {
            // Explicit play is the only thing besides playLive that sets intent.
            if (this.isLive) this.wantsLivePlayback = true;
            this.audio.play().catch(e => console.error('Play error:', e));
        } else {
            // Explicit pause: drop intent and stand down every retry, otherwise
            // the watchdog would fight the listener and resume on its own.
            this.wantsLivePlayback = false;
            this.cancelLiveReconnect();
            this.audio.pause();
        }
    }

    prev() {
        if (this.playlist.length > 0 && this.playlistIndex > 0) {
            this.playlistIndex--;
            const item = this.playlist[this.playlistIndex];
            this.playMedia(item.id, item.title, item.artist);
        } else if (this.audio.currentTime > 3) {
            this.audio.currentTime = 0;
        }
    }

    next() {
        if (this.playlist.length > 0 && this.playlistIndex < this.playlist.length - 1) {
            this.playlistIndex++;
            const item = this.playlist[this.playlistIndex];
            this.playMedia(item.id, item.title, item.artist);
        }
    }

    seek(e) {
        if (this.isLive || !this.audio.duration) return;
        const rect = this.progressContainer.getBoundingClientRect();
        const pct = (e.clientX - rect.left) / rect.width;
        this.audio.currentTime = pct * this.audio.duration;
    }

    close() {
        // Cancel pending reconnects first: currentTrack is cleared below and both
        // reconnect paths bail on that, but an already-armed timer would otherwise
        // still fire against a deliberately closed player.
        this.wantsLivePlayback = false;
        this.cancelLiveReconnect();
        this.stopLiveWatchdog();
        this.audio.pause();
        this.audio.src = '';
        this.dropStandbyStream('player closed');
        this.closeWebRTC();  // Clean up WebRTC connection
        this.stopTitleAutoScroll();
        this.stopArtistAutoScroll();
        this.currentTrack = null;
        this.isLive = false;
        this.isLiveDJ = false;
        this.stopMetadataPolling();
        this.stopListenerPolling();
        this.stopLiveTimeTicker();
        this.hide();
        sessionStorage.removeItem('grimnir-player-state');
    }

    show() {
        if (this.container) {
            this.container.style.display = 'block';
            document.body.classList.add('player-active');
            // Recalculate after becoming visible; hidden elements report 0 widths.
            this.scheduleTitleMarqueeUpdate();
            this.scheduleArtistMarqueeUpdate();
        }
    }

    hide() {
        if (this.container) {
            this.container.style.display = 'none';
            document.body.classList.remove('player-active');
            this.stopTitleAutoScroll();
            this.stopArtistAutoScroll();
        }
    }

    updateUI() {
        if (!this.currentTrack) return;

        // Update track info
        this.setTitle(this.currentTrack.title);
        if (this.artistEl) {
            if (this.isLive) {
                this.setSecondaryText(this.getLiveSecondaryText());
            } else {
                this.setSecondaryText(this.currentTrack.artist);
            }
        }

        // Update artwork
        if (this.artworkEl) {
            if (this.currentTrack.artwork) {
                this.artworkEl.innerHTML = `<img src="${this.currentTrack.artwork}" alt="" onerror="this.parentElement.innerHTML='<i class=\\'bi bi-music-note-beamed\\'></i>'">`;
            } else {
                this.artworkEl.innerHTML = '<i class="bi bi-broadcast"></i>';
            }
        }

        // Update live indicator
        if (this.container) {
            this.container.classList.toggle('is-on-air', this.isLive);
            this.container.classList.toggle('is-live-dj', this.isLive && this.isLiveDJ);
            this.container.classList.remove('is-live');
        }

        // Update prev/next button visibility
        if (this.prevBtn) this.prevBtn.style.visibility = this.playlist.length > 0 ? 'visible' : 'hidden';
        if (this.nextBtn) this.nextBtn.style.visibility = this.playlist.length > 0 ? 'visible' : 'hidden';

        // Show station selector for live streams.
        if (this.stationSelector) {
            this.stationSelector.style.display = this.isLive ? 'block' : 'none';
        }
        if (this.transportSelector) {
            this.transportSelector.style.display = this.isLive ? 'block' : 'none';
        }
    }

    onPlay() {
        if (this.playIcon) {
            this.playIcon.classList.remove('bi-play-fill');
            this.playIcon.classList.add('bi-pause-fill');
        }
    }

    onPause() {
        if (this.playIcon) {
            this.playIcon.classList.remove('bi-pause-fill');
            this.playIcon.classList.add('bi-play-fill');
        }
    }

    onEnded() {
        // A live stream should never end. If the element reports "ended" the
        // upstream connection dropped, so treat it as a disconnect and reconnect
        // rather than silently stopping.
        if (this.isLive) {
            if (this.promoteStandbyStream()) return;
            this.reconnectLiveStream({ force: true });
            return;
        }

        if (this.playlist.length > 0 && this.playlistIndex < this.playlist.length - 1) {
            this.next();
        } else {
            this.onPause();
            if (this.progressBar) this.progressBar.style.width = '100%';
        }
    }

    onTimeUpdate() {
        if (this.isLive || !this.audio.duration) return;

        const pct = (this.audio.currentTime / this.audio.duration) * 100;
        if (this.progressBar) this.progressBar.style.width = pct + '%';
        if (this.currentTimeEl) this.currentTimeEl.textContent = this.formatTime(this.audio.currentTime);
        // Note: Don't reset reconnect counter here - let onPlaying handle it
    }

    onLoadedMetadata() {
        if (this.durationEl && this.audio.duration && !this.isLive) {
            this.durationEl.textContent = this.formatTime(this.audio.duration);
        } else if (this.durationEl && this.isLive) {
            this.durationEl.textContent = 'LIVE';
        }
        // Note: Don't reset reconnect counter here - let onPlaying handle it after stable playback
    }

    onError(e) {
        // Ignore errors during cleanup/stop
        if (!this.currentTrack) return;

        // For non-live content, show error
        if (!this.isLive) {
            showToast('Failed to play audio', 'error');
            return;
        }

        // A live stream that errors has lost its connection. Take over from the
        // standby if one is already playing, otherwise reconnect instead of going
        // silent and waiting for the listener to notice and hit play.
        if (this.promoteStandbyStream()) return;
        this.reconnectLiveStream({ force: true });
    }

    // stalled means the network stopped delivering. Audio usually keeps coming
    // out of the element for a few more seconds off what is already buffered,
    // so this fires before the listener can hear anything: the moment to start
    // rebuilding the connection, and too early to put "Buffering" on screen.
    onStalled() {
        this.armStandbyStream('stalled');
        this.scheduleLiveStallReconnect();
    }

    // waiting means the buffer ran dry. The gap is audible from here on, so the
    // standby goes up without waiting out the prewarm delay.
    onWaiting() {
        if (this.promoteStandbyStream()) return;
        this.startStandbyStream('waiting');
        this.showBufferingSoon();
        this.scheduleLiveStallReconnect();
    }

    // A live stream that stalls usually recovers on its own within a second or
    // two, so reconnecting immediately would churn the connection on every
    // normal rebuffer. Arm a timer instead and only reconnect if playback has
    // not resumed by the time it fires; onPlaying cancels it.
    scheduleLiveStallReconnect() {
        if (!this.isLive || !this.currentTrack || !this.wantsLivePlayback) return;
        if (this.stalledTimer || this.isReconnecting) return;

        this.stalledTimer = setTimeout(() => {
            this.stalledTimer = null;
            // readyState >= 3 (HAVE_FUTURE_DATA) with the element unpaused means
            // it recovered on its own; leave it alone.
            if (!this.audio.paused && this.audio.readyState >= 3) return;
            this.reconnectLiveStream();
        }, this.liveStallTimeoutMs);
    }

    onPlaying() {
        this.noteLiveProgress();
        // Playback resumed - clear any stalled timer and restore UI
        if (this.stalledTimer) {
            clearTimeout(this.stalledTimer);
            this.stalledTimer = null;
        }
        // The element that is live recovered on its own, so the spare connection
        // is dead weight; holding it would keep a second listener slot open on
        // the station for as long as the tab stayed open.
        this.dropStandbyStream('primary recovered');
        this.cancelBufferingText();

        // Mark successful connection time for cooldown
        this.lastSuccessfulConnect = Date.now();

        // Clear reconnecting flag immediately
        this.isReconnecting = false;
        this.reconnectAttempts = 0;

        // Restore second line after buffering/reconnect
        if (this.isLive && this.artistEl) {
            this.setSecondaryText(this.getLiveSecondaryText());
            this._savedArtist = null;
        }
    }

    // suspend/abort mean the browser stopped fetching. Same treatment as a stall.
    onSuspend() {
        if (!this.isLive || !this.wantsLivePlayback) return;
        if (this.audio.paused) return;
        this.armStandbyStream('suspend');
        this.scheduleLiveStallReconnect();
    }

    // Record that audio actually moved. Everything below measures against this.
    noteLiveProgress() {
        this.lastProgressAt = Date.now();
        this.lastCurrentTime = this.audio.currentTime;
    }

    startLiveWatchdog() {
        this.stopLiveWatchdog();
        this.noteLiveProgress();
        this.liveWatchdogTimer = setInterval(() => this.checkLiveProgress(), this.liveWatchdogIntervalMs);
    }

    stopLiveWatchdog() {
        if (this.liveWatchdogTimer) {
            clearInterval(this.liveWatchdogTimer);
            this.liveWatchdogTimer = null;
        }
    }

    // The gap no media event covers: the element reports playing, fires no error,
    // no stall, no waiting, and currentTime simply stops moving. To a listener
    // that is dead air with a play button that looks fine.
    checkLiveProgress() {
        if (!this.isLive || !this.currentTrack || !this.wantsLivePlayback) return;
        if (this.isReconnecting || this.audio.paused) return;
        if (navigator.onLine === false) return; // nothing to reconnect to yet

        const t = this.audio.currentTime;
        if (t !== this.lastCurrentTime) {
            this.noteLiveProgress();
            // Audio has been flowing for a while since the last sign of trouble,
            // so the spare is not going to be needed. Holding it past the
            // broadcast server's establishment threshold would have this listener
            // counted twice on the station.
            if (this.standbyAudio && Date.now() - this.lastStallAt >= this.standbyIdleDropMs) {
                this.dropStandbyStream('primary healthy');
            }
            return;
        }
        const frozenForMs = Date.now() - this.lastProgressAt;

        // Long enough that the element is not coming back. Hand over if a standby
        // is playing, otherwise fall back to the audible reconnect.
        if (frozenForMs >= this.liveNoProgressMs) {
            if (this.promoteStandbyStream()) return;
            console.log('Live stream stopped advancing; reconnecting');
            this.reconnectLiveStream({ force: true });
            return;
        }

        // Half the timeout, with a standby already playing. Taking it costs the
        // listener nothing (the handover is silent) and being wrong costs one
        // discarded connection, so there is no reason to sit out the full
        // timeout listening to nothing.
        if (frozenForMs >= this.liveNoProgressMs / 2 && this.promoteStandbyStream()) return;

        // One tick with no movement is enough to start building the replacement.
        // It needs a head start to have buffered by the time it is wanted.
        if (frozenForMs >= this.liveWatchdogIntervalMs) {
            this.armStandbyStream('no progress');
        }
    }

    // Called when the tab becomes visible or the network returns. A throttled or
    // suspended tab can come back with a socket that is long gone.
    verifyLivePlayback(reason) {
        if (!this.isLive || !this.currentTrack || !this.wantsLivePlayback) return;
        if (this.audio.paused || this.audio.readyState < 3) {
            console.log(`Live stream not running after ${reason}; reconnecting`);
            this.cancelLiveReconnect();
            this.reconnectLiveStream();
            return;
        }
        // Playing, but it may have been frozen the whole time it was hidden.
        // Give it one watchdog interval to prove it is still advancing.
        this.noteLiveProgress();
    }

    bindAudioElement(el) {
        if (!el || !this.audioHandlers) return;
        Object.entries(this.audioHandlers).forEach(([type, fn]) => el.addEventListener(type, fn));
    }

    unbindAudioElement(el) {
        if (!el || !this.audioHandlers) return;
        Object.entries(this.audioHandlers).forEach(([type, fn]) => el.removeEventListener(type, fn));
    }

    // The URL a reconnect or a standby connection should open. LQ when the
    // station publishes one, and always cache-busted so no proxy along the way
    // replays the response body that just died.
    liveStreamUrl() {
        const streamUrl = this.currentTrack?.lqUrl || this.currentTrack?.url;
        if (!streamUrl) return null;
        return streamUrl.split('?')[0] + '?_t=' + Date.now();
    }

    // Open the standby only if the trouble outlasts the prewarm delay. Most
    // stalls clear in well under a second and deserve no second connection.
    armStandbyStream(reason) {
        this.lastStallAt = Date.now();
        if (!this.canUseStandby()) return;
        if (this.standbyAudio || this.standbyTimer) return;
        this.standbyTimer = setTimeout(() => {
            this.standbyTimer = null;
            if (!this.audio.paused && this.audio.readyState >= 3 && this.audioIsAdvancing()) return;
            this.startStandbyStream(reason);
        }, this.standbyPrewarmDelayMs);
    }

    // True while currentTime has moved recently. A stalled element draining its
    // buffer still advances, which is exactly when the standby should be built.
    audioIsAdvancing() {
        return this.audio.currentTime !== this.lastCurrentTime;
    }

    canUseStandby() {
        if (!this.isLive || !this.currentTrack || !this.wantsLivePlayback) return false;
        // WebRTC carries its own connection in srcObject; there is nothing to
        // reopen by URL, and its recovery path is the signaling socket.
        if (this.useWebRTC) return false;
        if (this.standbySwapBlocked) return false;
        return typeof Audio === 'function';
    }

    // Build the replacement connection silently. Muted playback is the one form
    // of autoplay every browser allows without a fresh gesture, which is what
    // lets this start while the listener is doing nothing at all.
    startStandbyStream(reason) {
        this.lastStallAt = Date.now();
        if (!this.canUseStandby() || this.standbyAudio) return;
        const url = this.liveStreamUrl();
        if (!url) return;

        let el;
        try {
            el = new Audio();
        } catch (e) {
            return;
        }
        el.preload = 'auto';
        el.muted = true;
        el.volume = 0;
        el.src = url;

        this.standbyAudio = el;
        this.standbyReady = false;
        el.addEventListener('playing', () => this.onStandbyPlaying());
        el.addEventListener('error', () => this.dropStandbyStream('standby failed'));
        console.log(`Opening standby live connection (${reason})`);

        const started = el.play();
        if (started && typeof started.catch === 'function') {
            started.catch(() => this.dropStandbyStream('standby refused'));
        }
    }

    // The standby is producing audio. Take over now if the listener is already
    // hearing nothing; otherwise hold it and let the live element finish its
    // buffer, which is what makes the handover inaudible.
    onStandbyPlaying() {
        this.standbyReady = true;
        if (this.audio.paused || this.audio.readyState < 3) this.promoteStandbyStream();
    }

    // Swap the standby in as the live element. Returns whether it happened, so
    // callers can skip the audible reconnect path.
    promoteStandbyStream() {
        const next = this.standbyAudio;
        if (!next || !this.standbyReady) return false;
        if (!this.isLive || !this.currentTrack || !this.wantsLivePlayback) return false;

        const previous = this.audio;
        if (previous === next) return false;

        this.standbyAudio = null;
        this.standbyReady = false;
        this.clearStandbyTimer();

        this.unbindAudioElement(previous);
        this.bindAudioElement(next);
        this.audio = next;

        const target = previous.volume;
        next.muted = false;
        this.fadeInAudio(next, target);

        // Let go of the dead connection. Left open it keeps counting against the
        // station's listener total and holds a socket the browser will not reuse.
        this.releaseAudioElement(previous);

        if (this.reconnectTimer) {
            clearTimeout(this.reconnectTimer);
            this.reconnectTimer = null;
        }
        if (this.stalledTimer) {
            clearTimeout(this.stalledTimer);
            this.stalledTimer = null;
        }
        this.isReconnecting = false;
        this.reconnectAttempts = 0;
        this.cancelBufferingText();
        this.lastCurrentTime = -1;
        this.noteLiveProgress();
        if (this.isLive && this.artistEl) this.setSecondaryText(this.getLiveSecondaryText());
        console.log('Live stream handed over to the standby connection');

        this.verifyPromotedStandby(next);
        return true;
    }

    // Unmuting a muted-autoplay element is allowed in Chrome once the page has
    // played audio, and can be refused in Safari. A refusal shows up as the
    // element pausing itself, so check, and drop back to the visible reconnect
    // path rather than leaving a silent player that looks fine.
    verifyPromotedStandby(el) {
        setTimeout(() => {
            if (this.audio !== el || !this.wantsLivePlayback) return;
            if (!el.paused) return;
            this.standbySwapBlocked = true;
            console.log('Standby handover was blocked by autoplay policy; reconnecting directly');
            this.reconnectLiveStream({ force: true });
        }, 600);
    }

    // Ramp rather than jump. The splice between two independent connections
    // lands mid-waveform, and a hard volume step there is a click.
    fadeInAudio(el, target) {
        const steps = 6;
        const stepMs = Math.max(1, Math.round(this.standbyFadeMs / steps));
        el.volume = 0;
        for (let i = 1; i <= steps; i++) {
            setTimeout(() => {
                if (this.audio !== el) return;
                el.volume = Math.min(target, (target * i) / steps);
            }, stepMs * i);
        }
    }

    releaseAudioElement(el) {
        if (!el) return;
        try {
            el.pause();
            if (el.srcObject) el.srcObject = null;
            el.removeAttribute('src');
            el.load();
        } catch (e) {
            /* an element that refuses to be torn down is still being replaced */
        }
    }

    dropStandbyStream(reason) {
        this.clearStandbyTimer();
        const el = this.standbyAudio;
        if (!el) return;
        this.standbyAudio = null;
        this.standbyReady = false;
        console.log(`Dropping standby live connection (${reason})`);
        this.releaseAudioElement(el);
    }

    clearStandbyTimer() {
        if (this.standbyTimer) {
            clearTimeout(this.standbyTimer);
            this.standbyTimer = null;
        }
    }

    // A rebuffer of a few hundred milliseconds is not worth telling the listener
    // about; the text flipping draws more attention than the gap it describes.
    showBufferingSoon() {
        if (!this.isLive || !this.artistEl || !this.currentTrack) return;
        if (this.bufferingTextTimer) return;
        this.bufferingTextTimer = setTimeout(() => {
            this.bufferingTextTimer = null;
            if (!this.isLive || !this.currentTrack || !this.artistEl) return;
            if (!this.audio.paused && this.audio.readyState >= 3) return;
            if (!this.artistEl.textContent.includes('Buffering')) {
                this._savedArtist = this.artistEl.textContent;
            }
            this.setSecondaryText('Buffering...');
        }, this.bufferingTextDelayMs);
    }

    cancelBufferingText() {
        if (this.bufferingTextTimer) {
            clearTimeout(this.bufferingTextTimer);
            this.bufferingTextTimer = null;
        }
    }

    // Cancel any armed stall timer or pending reconnect and reset the backoff.
    cancelLiveReconnect() {
        if (this.stalledTimer) {
            clearTimeout(this.stalledTimer);
            this.stalledTimer = null;
        }
        if (this.reconnectTimer) {
            clearTimeout(this.reconnectTimer);
            this.reconnectTimer = null;
        }
        this.dropStandbyStream('recovery cancelled');
        this.cancelBufferingText();
        this.isReconnecting = false;
        this.reconnectAttempts = 0;
    }

    // Reconnection with exponential backoff
    // force is for callers holding positive evidence that playback is broken: an
    // error event, a live stream reporting ended, or the watchdog measuring a
    // frozen currentTime. Without it the "looks fine" check below vetoes them,
    // because a frozen live stream reports exactly !paused && readyState >= 3 —
    // which made the watchdog inert.
    reconnectLiveStream({ force = false } = {}) {
        if (!this.isLive || !this.currentTrack || !this.wantsLivePlayback) return;

        // Don't reconnect if audio is genuinely playing fine.
        if (!force && !this.audio.paused && this.audio.readyState >= 3) {
            this.reconnectAttempts = 0;
            this.isReconnecting = false;
            return;
        }

        // Prevent overlapping reconnection attempts
        if (this.isReconnecting) return;

        // Cancel any pending reconnect
        if (this.reconnectTimer) clearTimeout(this.reconnectTimer);

        // Initialize reconnect state
        if (!this.reconnectAttempts) this.reconnectAttempts = 0;
        this.reconnectAttempts++;
        this.isReconnecting = true;

        // Exponential backoff: 500ms, 1s, 2s, 4s, 8s, then hold at 15s. There is
        // no attempt ceiling: a station the listener still wants is worth
        // retrying quietly for as long as the tab is open.
        const delay = Math.min(500 * Math.pow(2, this.reconnectAttempts - 1), 15000);

        console.log(`Reconnecting in ${delay}ms (attempt ${this.reconnectAttempts})...`);

        // Update UI to show reconnecting state (no toast)
        if (this.artistEl && this.reconnectAttempts > 1) {
            this.setSecondaryText('Reconnecting...');
        }

        this.reconnectTimer = setTimeout(() => {
            if (!this.isLive || !this.currentTrack) {
                this.isReconnecting = false;
                return;
            }

            // A standby that came up while this retry was armed is already
            // playing the station; taking it is both faster and silent.
            if (this.promoteStandbyStream()) return;
            // Otherwise it is not going to help, and holding it open would keep a
            // second listener slot on the station for the whole retry sequence.
            this.dropStandbyStream('reconnecting directly');

            // LQ URL when there is one, for a bandwidth-friendly reconnect.
            const baseUrl = this.liveStreamUrl();
            if (!baseUrl) {
                console.warn('No valid stream URL for reconnection');
                this.isReconnecting = false;
                return;
            }

            this.audio.src = baseUrl;
            this.audio.play().then(() => {
                // Play command accepted - clear reconnecting flag
                // Counter will be reset by onPlaying after stable playback
                this.isReconnecting = false;
                if (this.artistEl) {
                    this.fetchNowPlayingMetadata(); // Refresh metadata
                }
            }).catch(err => {
                this.isReconnecting = false;
                // Keep retrying. Giving up used to leave a dead player behind a
                // "click play to retry" message, which for a radio station is the
                // wrong ending: the stream usually comes back on its own and the
                // listener should not have to notice.
                if (this.reconnectAttempts % 10 === 0) {
                    console.log(`Stream still unreachable after ${this.reconnectAttempts} attempts; still trying`);
                }
                // force: once a recovery sequence is under way, a failed attempt
                // must not be vetoed by the "looks fine" check. A dead stream can
                // still report !paused && readyState >= 3 off stale buffered data,
                // and the veto also resets reconnectAttempts, which silently ends
                // the retry chain. The sequence ends on onPlaying, pause or close.
                this.reconnectLiveStream({ force: true });
            });
        }, delay);
    }

    setTitle(title) {
        if (!this.titleEl) return;

        const text = (title || '-').toString();

        let titleSpan = this.titleEl.querySelector('.title-scroll');
        if (!titleSpan) {
            titleSpan = document.createElement('span');
            titleSpan.className = 'title-scroll';
            this.titleEl.replaceChildren(titleSpan);
        }
        if (titleSpan.textContent === text) return;
        titleSpan.textContent = text;

        this.scheduleTitleMarqueeUpdate();
    }

    scheduleTitleMarqueeUpdate() {
        requestAnimationFrame(() => {
            requestAnimationFrame(() => {
                this.updateTitleMarquee();
            });
        });
        setTimeout(() => this.updateTitleMarquee(), 60);
    }

    updateTitleMarquee() {
        if (!this.titleEl) return;

        const titleSpan = this.titleEl.querySelector('.title-scroll');
        if (!titleSpan) return;
        if (this.titleEl.clientWidth <= 0) {
            setTimeout(() => this.updateTitleMarquee(), 60);
            return;
        }

        this.stopTitleAutoScroll();

        const overflow = titleSpan.offsetWidth - this.titleEl.clientWidth;
        if (overflow <= 4) return;

        this.startTitleAutoScroll();
    }

    formatTime(seconds) {
        const m = Math.floor(seconds / 60);
        const s = Math.floor(seconds % 60);
        return m + ':' + s.toString().padStart(2, '0');
    }

    saveState() {
        if (this.currentTrack) {
            sessionStorage.setItem('grimnir-player-state', JSON.stringify({
                track: this.currentTrack,
                time: this.audio.currentTime,
                playlist: this.playlist,
                playlistIndex: this.playlistIndex,
                wasPlaying: !this.audio.paused
            }));
        }
    }

    restoreState() {
        const state = sessionStorage.getItem('grimnir-player-state');
        if (state) {
            try {
                const data = JSON.parse(state);
                this.currentTrack = data.track;
                this.playlist = data.playlist || [];
                this.playlistIndex = data.playlistIndex || 0;

                if (this.currentTrack) {
                    this.isLive = this.currentTrack.type === 'live';
                    this.updateUI();
                    this.show();

                    // Auto-resume if it was playing and we have a valid URL
                    if (data.wasPlaying && this.currentTrack.url) {
                        if (this.isLive) {
                            // For live streams, use playLive to properly initialize WebRTC
                            this.playLive(
                                this.currentTrack.url,
                                this.currentTrack.title,
                                this.currentTrack.stationId
                            );
                        } else {
                            // For regular media, just set src and play
                            this.audio.src = this.currentTrack.url;
                            if (data.time) {
                                this.audio.currentTime = data.time;
                            }
                            this.audio.play().catch(e => {
                                console.debug('Auto-play blocked:', e);
                                this.onPause();
                            });
                        }
                    }
                }
            } catch (e) {
                console.error('Failed to restore player state:', e);
            }
        }
    }
}

// Initialize global player
let globalPlayer;
document.addEventListener('DOMContentLoaded', () => {
    globalPlayer = new GlobalPlayer();
    window.globalPlayer = globalPlayer;
});

// Legacy previewTrack function - now uses global player
function previewTrack(url, element, title, artist) {
    // Extract media ID from URL
    const match = url.match(/\/media\/([^/]+)\/stream/);
    const mediaId = match ? match[1] : null;

    // Get title/artist from the row if not provided
    if (!title && element) {
        const row = element.closest('tr');
        if (row) {
            const titleCell = row.querySelector('td:nth-child(3) strong');
            const artistCell = row.querySelector('td:nth-child(4)');
            title = titleCell?.textContent || 'Unknown';
            artist = artistCell?.textContent || '';
            if (artist === '-') artist = '';
        }
    }

    if (globalPlayer && mediaId) {
        globalPlayer.playMedia(mediaId, title, artist);
    } else if (globalPlayer) {
        globalPlayer.play({ url, title: title || 'Audio', artist: artist || '', type: 'media' });
    }
}

function stopPreview() {
    if (globalPlayer) {
        globalPlayer.close();
    }
}

// Confirm dialogs for destructive actions
document.addEventListener('htmx:confirm', (e) => {
    const message = e.detail.question;
    if (message) {
        e.preventDefault();
        if (confirm(message)) {
            // Tell htmx we've already confirmed, otherwise it will run its own
            // confirm() after this handler, causing a double prompt.
            e.detail.issueRequest(true);
        }
    }
});

// Time formatting utilities
function formatDuration(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.floor(seconds % 60);

    if (h > 0) {
        return `${h}:${m.toString().padStart(2, '0')}:${s.toString().padStart(2, '0')}`;
    }
    return `${m}:${s.toString().padStart(2, '0')}`;
}

function formatTimeAgo(date) {
    const now = new Date();
    const diff = now - new Date(date);
    const seconds = Math.floor(diff / 1000);

    if (seconds < 60) return 'just now';
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
    return `${Math.floor(seconds / 86400)}d ago`;
}

// Play archive track (public pages)
function playArchiveTrack(id, title, artist) {
    if (globalPlayer) {
        globalPlayer.play({
            url: `/archive/${id}/stream`,
            title: title || 'Unknown Track',
            artist: artist || '',
            artwork: `/media/${id}/artwork`,
            id: id,
            type: 'media'
        });
    }
}

// Export utilities for use in inline scripts
window.grimnirUtils = {
    setTheme,
    showToast,
    formatDuration,
    formatTimeAgo,
    previewTrack,
    playArchiveTrack,
    get player() { return globalPlayer; }
};
