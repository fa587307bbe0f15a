// The area map: the park's raster base map (when it has one, the same the handhelds get), zones
// and features, the coverage heatmap and gaps (vector tiles), patrol tracks, reports of the
// period, rangers on patrol (moving as their fixes arrive) and active safety alerts (SOS
// included, following the live feed). Nothing is fetched from outside this server.
//
// Status is never carried by red alone: gaps are hatched grey, reports are lettered icons, a
// critical alert is a warning sign with a dashed outline, an SOS its own icon; tracks take one
// colour per patrol. One click opens one popup: the topmost thing under the pointer.
import { areaPath, getJSON } from "./api.js";
import { _ } from "./i18n.js";
import { parkTime, since } from "./time.js";

const STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#efe9da" } }],
};
const POSITIONS_EVERY_MS = 10_000;
const TRACK_COLOURS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d",
  "#1f78b4", "#6a3d9a"];
// Report status: a colour and a letter (N new, R in review, C confirmed, X rejected).
const REPORT_ICONS = { new: ["#e66101", "N"], in_review: ["#fdb863", "R"],
  confirmed: ["#5e3c99", "C"], rejected: ["#8c8c8c", "X"] };
const SEVERITY_COLOURS = ["match", ["get", "severity"], "critical", "#b10026", "warning", "#fd8d3c",
  "#6baed6"];

const GROUPS = {
  basemap: ["basemap"],
  layers: ["zones-fill", "zones-line", "features-line", "features-point", "boundary-line"],
  coverage: ["coverage-fill"],
  gaps: ["gaps-fill"],
  tracks: ["tracks-line"],
  reports: ["reports-symbol"],
  positions: ["positions-circle"],
  alerts: ["alerts-fill", "alerts-line", "alerts-point"],
  seizures: ["seizures-fill"],
};
// What a click opens, topmost first.
const CLICKABLE = ["alerts-point", "positions-circle", "reports-symbol", "tracks-line",
  "seizures-fill", "alerts-fill", "coverage-fill", "gaps-fill"];
const EMPTY = { type: "FeatureCollection", features: [] };

const text = (value) => {
  const span = document.createElement("span");
  span.textContent = value ?? "";
  return span.innerHTML;  // typed by people: shown as text, never HTML
};

// A point and radius as a polygon (64 vertices on the sphere), to draw the real distance.
function circle([lon, lat], metres) {
  const R = 6371008.8, d = metres / R, φ1 = (lat * Math.PI) / 180, λ1 = (lon * Math.PI) / 180;
  const ring = [];
  for (let i = 0; i <= 64; i++) {
    const θ = (2 * Math.PI * (i % 64)) / 64;
    const φ2 = Math.asin(Math.sin(φ1) * Math.cos(d) + Math.cos(φ1) * Math.sin(d) * Math.cos(θ));
    const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(d) * Math.cos(φ1),
                               Math.cos(d) - Math.sin(φ1) * Math.sin(φ2));
    ring.push([(λ2 * 180) / Math.PI, (φ2 * 180) / Math.PI]);
  }
  return { type: "Polygon", coordinates: [ring] };
}

// The active alerts (from the alerts API) as features: their polygon or circle, and a point
// where the alert is a point (an SOS: where the ranger was). Area-wide alerts have no shape.
export function alertFeatures(alerts) {
  const features = [];
  for (const a of alerts) {
    if (!a.geometry) continue;
    const properties = { id: a.id, severity: a.severity, kind: a.kind, message: a.message,
      seen: `${a.acknowledged} of ${a.recipients}`,
      icon: a.kind === "sos" ? "icon-sos" : `icon-alert-${a.severity}` };
    if (a.geometry.type === "Point") {
      features.push({ type: "Feature", geometry: a.geometry, properties });
      if (a.radius_m) features.push({ type: "Feature", properties,
                                      geometry: circle(a.geometry.coordinates, a.radius_m) });
    } else {
      features.push({ type: "Feature", geometry: a.geometry, properties });
    }
  }
  return { type: "FeatureCollection", features };
}

function hash(value) {
  let h = 0;
  for (const c of String(value)) h = (h * 31 + c.charCodeAt(0)) | 0;
  return Math.abs(h);
}

function colourTracks(collection) {
  for (const f of collection.features) {
    f.properties.colour = TRACK_COLOURS[hash(f.properties.id) % TRACK_COLOURS.length];
  }
  return collection;
}

function reportIcons(collection) {
  for (const f of collection.features) {
    f.properties.icon = `icon-report-${REPORT_ICONS[f.properties.status] ? f.properties.status : "new"}`;
  }
  return collection;
}

// Icons drawn on a canvas, so that no image or font is fetched.
function icon(size, draw) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const g = canvas.getContext("2d");
  draw(g, size);
  return g.getImageData(0, 0, size, size);
}

function letter(g, size, fill, char, shape = "circle") {
  g.fillStyle = fill;
  g.strokeStyle = "#fff";
  g.lineWidth = 2;
  g.beginPath();
  if (shape === "circle") g.arc(size / 2, size / 2, size / 2 - 2, 0, 2 * Math.PI);
  else { g.moveTo(size / 2, 2); g.lineTo(size - 2, size - 3); g.lineTo(2, size - 3); g.closePath(); }
  g.fill();
  g.stroke();
  g.fillStyle = fill === "#fdb863" ? "#000" : "#fff";
  g.font = `bold ${Math.round(size * (shape === "circle" ? 0.55 : 0.45))}px sans-serif`;
  g.textAlign = "center";
  g.textBaseline = "middle";
  g.fillText(char, size / 2, shape === "circle" ? size / 2 + 1 : size * 0.62);
}

function addImages(map) {
  for (const [status, [fill, char]] of Object.entries(REPORT_ICONS)) {
    map.addImage(`icon-report-${status}`, icon(22, (g, s) => letter(g, s, fill, char)));
  }
  map.addImage("icon-alert-critical", icon(28, (g, s) => letter(g, s, "#b10026", "!", "triangle")));
  map.addImage("icon-alert-warning", icon(26, (g, s) => letter(g, s, "#fd8d3c", "!", "triangle")));
  map.addImage("icon-alert-info", icon(24, (g, s) => letter(g, s, "#6baed6", "i")));
  map.addImage("icon-sos", icon(34, (g, s) => {
    g.fillStyle = "#b10026";
    g.strokeStyle = "#fff";
    g.lineWidth = 3;
    g.fillRect(2, 7, s - 4, s - 14);
    g.strokeRect(2, 7, s - 4, s - 14);
    g.fillStyle = "#fff";
    g.font = "bold 11px sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText("SOS", s / 2, s / 2 + 1);
  }));
  // Gaps: grey diagonal hatching, so "not visited" never reads as "danger".
  map.addImage("hatch", icon(8, (g) => {
    g.strokeStyle = "rgba(80,80,80,.55)";
    g.lineWidth = 1.2;
    g.beginPath();
    g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6);
    g.stroke();
  }));
}

function addLayers(map, hasBasemap) {
  if (hasBasemap) map.addLayer({ id: "basemap", type: "raster", source: "basemap" });
  map.addLayer({ id: "zones-fill", type: "fill", source: "layers",
    filter: ["==", ["get", "layer"], "zone"],
    paint: { "fill-color": "#8c6d31", "fill-opacity": 0.08 } });
  map.addLayer({ id: "zones-line", type: "line", source: "layers",
    filter: ["==", ["get", "layer"], "zone"], paint: { "line-color": "#8c6d31", "line-width": 1 } });
  map.addLayer({ id: "gaps-fill", type: "fill", source: "coverage", "source-layer": "coverage",
    filter: ["==", ["get", "gap"], true], paint: { "fill-pattern": "hatch" } });
  map.addLayer({ id: "coverage-fill", type: "fill", source: "coverage", "source-layer": "coverage",
    filter: ["==", ["get", "gap"], false],
    paint: { "fill-opacity": 0.6, "fill-color": ["interpolate", ["linear"], ["get", "visits"],
      1, "#c7e9c0", 3, "#74c476", 8, "#238b45", 20, "#00441b"] } });
  map.addLayer({ id: "features-line", type: "line", source: "layers",
    filter: ["all", ["!=", ["get", "layer"], "zone"], ["!=", ["get", "layer"], "boundary"],
             ["!=", ["geometry-type"], "Point"]],
    paint: { "line-color": ["match", ["get", "layer"], "river", "#3182bd", "#7f7f7f"],
             "line-width": 1.5 } });
  map.addLayer({ id: "features-point", type: "circle", source: "layers",
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 4, "circle-color": "#3f3f3f" } });
  map.addLayer({ id: "boundary-line", type: "line", source: "layers",
    filter: ["==", ["get", "layer"], "boundary"],
    paint: { "line-color": "#2f5d3a", "line-width": 2.5 } });
  map.addLayer({ id: "seizures-fill", type: "fill", source: "seizures",
    paint: { "fill-color": "#67001f",
             "fill-opacity": ["interpolate", ["linear"], ["get", "seizures"], 1, 0.35, 10, 0.8] } });
  map.addLayer({ id: "tracks-line", type: "line", source: "tracks",
    paint: { "line-color": ["coalesce", ["get", "colour"], "#08519c"], "line-width": 2.5 } });
  map.addLayer({ id: "reports-symbol", type: "symbol", source: "reports",
    layout: { "icon-image": ["get", "icon"], "icon-allow-overlap": true } });
  map.addLayer({ id: "alerts-fill", type: "fill", source: "alerts",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "fill-color": SEVERITY_COLOURS, "fill-opacity": 0.12 } });
  map.addLayer({ id: "alerts-line", type: "line", source: "alerts",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": SEVERITY_COLOURS, "line-width": 2, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "positions-circle", type: "circle", source: "positions",
    paint: { "circle-radius": 7, "circle-color": "#ffd92f",
             "circle-stroke-color": "#000", "circle-stroke-width": 2 } });
  // On top: an SOS is where a ranger is, so it must not hide under their position.
  map.addLayer({ id: "alerts-point", type: "symbol", source: "alerts",
    filter: ["==", ["geometry-type"], "Point"],
    layout: { "icon-image": ["get", "icon"], "icon-allow-overlap": true } });
}

function popupHtml(layer, p, slug, zone) {
  const area = `/areas/${encodeURIComponent(slug)}`;
  switch (layer) {
    case "alerts-point":
    case "alerts-fill":
      return `<a href="${area}/alerts"><strong>${text(p.severity)}</strong> ${text(p.kind)}</a>` +
             `<br>${text(p.message)}<br>${_("seen by %(n)s", { n: text(p.seen) })}`;
    case "positions-circle":
      return `<strong>${text(p.ranger || p.leader || _("Ranger"))}</strong>` +
             `${p.team ? ` · ${_("team %(name)s", { name: text(p.team) })}` : ""}<br>` +
             _("%(type)s patrol", { type: text(p.patrol_type) }) +
             `${p.leader ? `, ${_("led by %(name)s", { name: text(p.leader) })}` : ""}<br>` +
             `${_("last fix")} ${since(p.recorded_at)} (${parkTime(p.recorded_at, zone)})<br>` +
             `<a href="${area}/patrols/${p.patrol_id}">${_("the patrol")}</a>`;
    case "reports-symbol":
      return `<a href="${area}/reports/${p.id}">${text(p.label)}</a><br>${text(p.status)}, ` +
             `${parkTime(p.observed_at, zone)}`;
    case "tracks-line":
      return `<a href="${area}/patrols/${p.id}">${_("%(type)s patrol", { type: text(p.patrol_type) })}</a><br>` +
             `${Number(p.km).toFixed(1)} km, ${Number(p.hours).toFixed(1)} h`;
    case "seizures-fill":
      return _("%(n)s seizure(s) in this cell", { n: text(p.seizures) });
    case "coverage-fill":
      return _("%(visits)s patrol-days, %(patrols)s patrols", { visits: p.visits, patrols: p.patrols }) +
             `<br>${p.hours} h, ${p.km} km`;
    case "gaps-fill":
      return _("Not patrolled in this period");
    default:
      return "";
  }
}

// One popup, for the topmost thing under the click; a click elsewhere closes it. The popup does
// not close itself on clicks (closeOnClick): this handler alone decides, so a second click on
// the same thing never closes the popup it has just opened.
function popups(map, slug, zone) {
  let popup = null;
  map.on("click", (e) => {
    const layers = CLICKABLE.filter((id) => map.getLayer(id) &&
      map.getLayoutProperty(id, "visibility") !== "none");
    const [hit] = map.queryRenderedFeatures(e.point, { layers })
      .sort((a, b) => CLICKABLE.indexOf(a.layer.id) - CLICKABLE.indexOf(b.layer.id));
    popup?.remove();
    popup = hit ? new maplibregl.Popup({ maxWidth: "18rem", closeOnClick: false })
      .setLngLat(e.lngLat).setHTML(popupHtml(hit.layer.id, hit.properties, slug, zone))
      .addTo(map) : null;
  });
  for (const id of CLICKABLE) {
    map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
  }
}

// Names next to the rangers' dots: DOM markers, so no font has to be fetched.
class Names {
  constructor(map) {
    this.map = map;
    this.markers = new Map();
  }

  update(collection) {
    const seen = new Set();
    for (const f of collection.features) {
      const id = f.properties.patrol_id;
      seen.add(id);
      let marker = this.markers.get(id);
      if (!marker) {
        const label = document.createElement("div");
        label.className = "map-label ranger-label";
        marker = new maplibregl.Marker({ element: label, anchor: "left", offset: [10, 0] });
        this.markers.set(id, marker.setLngLat(f.geometry.coordinates).addTo(this.map));
      }
      marker.getElement().textContent = f.properties.ranger || f.properties.leader || _("Ranger");
      marker.getElement().dataset.patrol = id;
      marker.setLngLat(f.geometry.coordinates);
    }
    for (const [id, marker] of this.markers) {
      if (!seen.has(id)) { marker.remove(); this.markers.delete(id); }
    }
  }
}

function zoneLabels(map, layers) {
  for (const f of layers.features) {
    if (f.properties.layer !== "zone" || !f.properties.name) continue;
    const bounds = new maplibregl.LngLatBounds();
    const walk = (c) => (typeof c[0] === "number" ? bounds.extend(c) : c.forEach(walk));
    walk(f.geometry.coordinates);
    const label = document.createElement("div");
    label.className = "map-label zone-label";
    label.textContent = f.properties.name;
    new maplibregl.Marker({ element: label }).setLngLat(bounds.getCenter()).addTo(map);
  }
}

function readout(map, element) {
  if (!element) return;
  const show = (lngLat) => {
    element.textContent = `${lngLat.lat.toFixed(5)}, ${lngLat.lng.toFixed(5)}`;
  };
  map.on("mousemove", (e) => show(e.lngLat));
  map.on("moveend", () => { if (!element.textContent) show(map.getCenter()); });
}

function goTo(map, form, focus) {
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const parts = form.elements.where.value.split(/[ ,;]+/).filter(Boolean).map(Number);
    const error = form.querySelector(".error");
    if (parts.length !== 2 || parts.some(Number.isNaN) || Math.abs(parts[0]) > 90 ||
        Math.abs(parts[1]) > 180) {
      error.textContent = _("Give latitude and longitude, e.g. -3.45, 37.12");
      return;
    }
    error.textContent = "";
    focus(parts[1], parts[0], `${parts[0]}, ${parts[1]}`);
  });
}

function fitTo(map, collection) {
  const bounds = new maplibregl.LngLatBounds();
  const walk = (c) => (typeof c[0] === "number" ? bounds.extend(c) : c.forEach(walk));
  for (const f of collection.features) if (f.geometry) walk(f.geometry.coordinates);
  if (!bounds.isEmpty()) map.fitBounds(bounds, { padding: 40, maxZoom: 16, duration: 0 });
}

async function basemapInfo(slug) {
  try {
    return await getJSON(areaPath(slug, "/basemap"));
  } catch {
    return null;  // the park has no raster base map: the map draws without one
  }
}

// `options`: {patrol: FeatureCollection} draws one patrol fitted to its track (with its start
// and end); {reports: FeatureCollection, fit: true} one report's place; otherwise the whole area,
// live.
export async function areaMap(element, toggles, options = {}) {
  const slug = element.dataset.area;
  const zone = element.dataset.zone || "UTC";
  const bbox = JSON.parse(element.dataset.bbox);
  const period = `start=${element.dataset.start}&end=${element.dataset.end}`;
  const overview = !options.patrol && !options.reports;
  const map = new maplibregl.Map({
    container: element, style: STYLE, bounds: [[bbox[0], bbox[1]], [bbox[2], bbox[3]]],
    fitBoundsOptions: { padding: 20 }, attributionControl: false,
  });
  window.dashboardMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  const patrolQuery = `/patrols?tracks=true&${period}&format=geojson`;
  const reportQuery = element.dataset.startAt
    ? `/reports?limit=1000&format=geojson&start=${encodeURIComponent(element.dataset.startAt)}` +
      `&end=${encodeURIComponent(element.dataset.endAt)}`
    : "/reports?limit=1000&format=geojson";
  // Alerts and seizure hotspots are for managers; a map without them still draws the rest.
  const alerts = overview ? getJSON(areaPath(slug, "/alerts")).catch(() => []) : Promise.resolve([]);
  const seizures = overview
    ? getJSON(areaPath(slug, `/seizures/hotspots?${period}`)).catch(() => EMPTY)
    : Promise.resolve(EMPTY);
  const [layers, tracks, reports, positions, active, hotspots, basemap] = await Promise.all([
    getJSON(areaPath(slug, "/map-overview?format=geojson")),
    options.patrol ? Promise.resolve(options.patrol)
      : options.reports ? Promise.resolve(EMPTY) : getJSON(areaPath(slug, patrolQuery)),
    options.reports ? Promise.resolve(options.reports)
      : options.patrol ? Promise.resolve(options.patrolReports || EMPTY)
      : getJSON(areaPath(slug, reportQuery)),
    overview ? getJSON(areaPath(slug, "/positions?format=geojson")) : Promise.resolve(EMPTY),
    alerts,
    seizures,
    basemapInfo(slug),
  ]);
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  addImages(map);
  if (basemap) {
    map.addSource("basemap", {
      type: "raster", tileSize: 256, minzoom: basemap.minzoom, maxzoom: basemap.maxzoom,
      tiles: [`${location.origin}${areaPath(slug, "/basemap/{z}/{x}/{y}")}`],
      ...(basemap.bounds ? { bounds: basemap.bounds } : {}),
    });
  }
  map.addSource("layers", { type: "geojson", data: layers });
  map.addSource("tracks", { type: "geojson", data: colourTracks(tracks) });
  map.addSource("reports", { type: "geojson", data: reportIcons(reports) });
  map.addSource("positions", { type: "geojson", data: positions });
  map.addSource("seizures", { type: "geojson", data: hotspots });
  map.addSource("alerts", { type: "geojson", data: active.length ? alertFeatures(active) : EMPTY });
  map.addSource("coverage", {
    type: "vector", minzoom: 0, maxzoom: 14,
    tiles: [`${location.origin}${areaPath(slug, "/coverage/tiles/{z}/{x}/{y}.mvt")}?${period}`],
  });
  addLayers(map, Boolean(basemap));
  if (!overview) {
    for (const id of ["coverage-fill", "gaps-fill", "seizures-fill"]) {
      map.setLayoutProperty(id, "visibility", "none");
    }
  }
  popups(map, slug, zone);
  zoneLabels(map, layers);
  readout(map, document.getElementById("map-coordinates"));
  element.dataset.basemap = basemap ? "yes" : "no";
  toggles?.addEventListener("change", (e) => {
    for (const id of GROUPS[e.target.value] || []) {
      if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
    }
    if (e.target.value === "positions") {
      for (const label of element.querySelectorAll(".ranger-label")) label.hidden = !e.target.checked;
    }
  });

  let focusMarker = null;
  const focus = (lon, lat, label) => {
    focusMarker?.remove();
    const pin = document.createElement("div");
    pin.className = "map-label focus-label";
    pin.textContent = `◎ ${label || ""}`;
    focusMarker = new maplibregl.Marker({ element: pin }).setLngLat([lon, lat]).addTo(map);
    map.jumpTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 15) });
    element.scrollIntoView({ block: "nearest" });
  };
  goTo(map, document.getElementById("map-goto"), focus);

  if (options.patrol) {
    fitTo(map, options.patrol);
    for (const [where, name] of [[options.start, "start"], [options.end, "end"]]) {
      if (!where) continue;
      const pin = document.createElement("div");
      pin.className = `map-label ${name.toLowerCase()}-label`;
      pin.textContent = name === "start" ? _("Start") : _("End");
      new maplibregl.Marker({ element: pin }).setLngLat(where).addTo(map);
    }
  } else if (options.reports && options.fit) {
    fitTo(map, options.reports);
  }

  if (overview) {
    window.focusDashboardMap = focus;
    const params = new URLSearchParams(location.search);
    const asked = (params.get("focus") || "").split(",").map(Number);
    if (asked.length === 2 && asked.every(Number.isFinite)) focus(asked[0], asked[1], params.get("label"));
    const names = new Names(map);
    names.update(positions);
    let version = 0;
    const movePositions = async () => {
      try {
        const fresh = await getJSON(areaPath(slug, "/positions?format=geojson"));
        map.getSource("positions").setData(fresh);
        names.update(fresh);
        window.rangerPositions = fresh;
        element.dataset.positions = String(++version);
      } catch {
        // Signed out or the server away for a moment: the next round tries again.
      }
    };
    window.rangerPositions = positions;
    setInterval(movePositions, POSITIONS_EVERY_MS);
    // Alerts follow the live feed the operations banner keeps open (ops.js).
    document.addEventListener("rangersync:live", async ({ detail }) => {
      if (!["alert", "cancelled", "escalated", "handling"].includes(detail.kind)) return;
      const fresh = await getJSON(areaPath(slug, "/alerts")).catch(() => null);
      if (fresh) map.getSource("alerts").setData(fresh.length ? alertFeatures(fresh) : EMPTY);
      if (detail.kind === "alert") movePositions();
    });
  }
  map.once("idle", () => { element.dataset.ready = "true"; });
  return map;
}
