// The area map: zones and features, the coverage heatmap and gaps (vector tiles), patrol tracks,
// reports, rangers on patrol and active safety alerts (SOS included). No basemap: nothing is fetched from outside this server.
import { areaPath, getJSON } from "./api.js";

const STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#efe9da" } }],
};
const STATUS_COLOURS = ["match", ["get", "status"], "new", "#d7301f", "in_review", "#fc8d59",
  "confirmed", "#7a0177", "rejected", "#969696", "#444"];

const GROUPS = {
  layers: ["zones-fill", "zones-line", "features-line", "features-point", "boundary-line"],
  coverage: ["coverage-fill"],
  gaps: ["gaps-fill"],
  tracks: ["tracks-line"],
  reports: ["reports-circle"],
  positions: ["positions-circle"],
  alerts: ["alerts-fill", "alerts-line", "alerts-point"],
  seizures: ["seizures-fill"],
};
const SEVERITY_COLOURS = ["match", ["get", "severity"], "critical", "#b10026", "warning", "#fd8d3c",
  "#6baed6"];
const EMPTY = { type: "FeatureCollection", features: [] };

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
      seen: `${a.acknowledged} of ${a.recipients}` };
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

function addLayers(map) {
  map.addLayer({ id: "zones-fill", type: "fill", source: "layers",
    filter: ["==", ["get", "layer"], "zone"],
    paint: { "fill-color": "#8c6d31", "fill-opacity": 0.08 } });
  map.addLayer({ id: "zones-line", type: "line", source: "layers",
    filter: ["==", ["get", "layer"], "zone"], paint: { "line-color": "#8c6d31", "line-width": 1 } });
  map.addLayer({ id: "gaps-fill", type: "fill", source: "coverage", "source-layer": "coverage",
    filter: ["==", ["get", "gap"], true],
    paint: { "fill-color": "#e31a1c", "fill-opacity": 0.15 } });
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
    paint: { "line-color": "#08519c", "line-width": 2 } });
  map.addLayer({ id: "reports-circle", type: "circle", source: "reports",
    paint: { "circle-radius": 6, "circle-color": STATUS_COLOURS,
             "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
  map.addLayer({ id: "alerts-fill", type: "fill", source: "alerts",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "fill-color": SEVERITY_COLOURS, "fill-opacity": 0.15 } });
  map.addLayer({ id: "alerts-line", type: "line", source: "alerts",
    filter: ["!=", ["geometry-type"], "Point"],
    paint: { "line-color": SEVERITY_COLOURS, "line-width": 2, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "positions-circle", type: "circle", source: "positions",
    paint: { "circle-radius": 8, "circle-color": "#ffd92f",
             "circle-stroke-color": "#000", "circle-stroke-width": 2 } });
  // On top: an SOS is where a ranger is, so it must not hide under their position.
  map.addLayer({ id: "alerts-point", type: "circle", source: "alerts",
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": ["case", ["==", ["get", "kind"], "sos"], 10, 7],
             "circle-color": SEVERITY_COLOURS, "circle-stroke-color": "#fff",
             "circle-stroke-width": 2 } });
}

function popups(map, slug) {
  const popup = (e, html) => new maplibregl.Popup().setLngLat(e.lngLat).setHTML(html).addTo(map);
  map.on("click", "reports-circle", (e) => {
    const p = e.features[0].properties;
    popup(e, `<a href="/areas/${slug}/reports/${p.id}">${p.label}</a><br>${p.status}`);
  });
  for (const layer of ["alerts-point", "alerts-fill"]) {
    map.on("click", layer, (e) => {
      if (layer === "alerts-fill" &&  // the point inside its circle already has its popup
          map.queryRenderedFeatures(e.point, { layers: ["alerts-point"] }).length) return;
      const p = e.features[0].properties;
      const text = document.createElement("span");
      text.textContent = p.message;  // a message is typed by people: shown as text, never HTML
      popup(e, `<a href="/areas/${slug}/alerts"><strong>${p.severity}</strong> ${p.kind}</a>` +
               `<br>${text.innerHTML}<br>seen by ${p.seen}`);
    });
  }
  map.on("click", "coverage-fill", (e) => {
    const p = e.features[0].properties;
    popup(e, `${p.visits} patrol-days, ${p.patrols} patrols<br>${p.hours} h, ${p.km} km`);
  });
  map.on("click", "tracks-line", (e) => {
    const p = e.features[0].properties;
    popup(e, `<a href="/areas/${slug}/patrols/${p.id}">${p.patrol_type} patrol</a><br>` +
             `${Number(p.km).toFixed(1)} km, ${Number(p.hours).toFixed(1)} h`);
  });
}

export async function areaMap(element, toggles, options = {}) {
  const slug = element.dataset.area;
  const bbox = JSON.parse(element.dataset.bbox);
  const period = `start=${element.dataset.start}&end=${element.dataset.end}`;
  const map = new maplibregl.Map({
    container: element, style: STYLE, bounds: [[bbox[0], bbox[1]], [bbox[2], bbox[3]]],
    fitBoundsOptions: { padding: 20 }, attributionControl: false,
  });
  window.dashboardMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  const patrolQuery = options.patrol ? null : `/patrols?tracks=true&${period}&format=geojson`;
  // Alerts are for managers; a map without them still draws everything else.
  const alerts = options.patrol ? Promise.resolve([])
    : getJSON(areaPath(slug, "/alerts")).catch(() => []);
  // Seizure hotspots (grid cells) are for managers too; without them the map still draws.
  const seizures = options.patrol ? Promise.resolve(EMPTY)
    : getJSON(areaPath(slug, `/seizures/hotspots?${period}`)).catch(() => EMPTY);
  const [layers, tracks, reports, positions, active, hotspots] = await Promise.all([
    getJSON(areaPath(slug, "/map-overview?format=geojson")),
    options.patrol ? Promise.resolve(options.patrol) : getJSON(areaPath(slug, patrolQuery)),
    options.reports ? Promise.resolve(options.reports)
      : getJSON(areaPath(slug, "/reports?limit=1000&format=geojson")),
    getJSON(areaPath(slug, "/positions?format=geojson")),
    alerts,
    seizures,
  ]);
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  map.addSource("layers", { type: "geojson", data: layers });
  map.addSource("tracks", { type: "geojson", data: tracks });
  map.addSource("reports", { type: "geojson", data: reports });
  map.addSource("positions", { type: "geojson", data: positions });
  map.addSource("seizures", { type: "geojson", data: hotspots });
  map.addSource("alerts", { type: "geojson", data: active.length ? alertFeatures(active) : EMPTY });
  map.addSource("coverage", {
    type: "vector", minzoom: 0, maxzoom: 14,
    tiles: [`${location.origin}${areaPath(slug, "/coverage/tiles/{z}/{x}/{y}.mvt")}?${period}`],
  });
  addLayers(map);
  popups(map, slug);
  toggles?.addEventListener("change", (e) => {
    for (const id of GROUPS[e.target.value] || []) {
      map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
    }
  });
  map.once("idle", () => { element.dataset.ready = "true"; });
  return map;
}
