/* The overview's and the reports' charts: each element with a data-chart attribute (a spec
   made by affsrv/admin/charts.py) becomes an Apache ECharts chart. A file of its own because
   the pages' CSP allows no inline script. Tooltips are plain text: ECharts' default tooltip
   markers are inline style attributes, which the CSP refuses. */
(function () {
  "use strict";
  var palette = ["#0b57d0", "#1a7f37", "#9a6700", "#b42318", "#6639ba", "#0a7ea4"];

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function axisTooltip(params) {
    var lines = [esc(params[0].axisValueLabel)];
    params.forEach(function (p) {
      lines.push(esc(p.seriesName) + ": " + esc(p.value === undefined ? "" : p.value));
    });
    return lines.join("<br>");
  }

  function seriesOptions(spec) {
    var narrow = window.innerWidth < 640;
    var horizontal = spec.kind === "bar" && spec.categories.length > 8;
    var category = {type: "category", data: spec.categories,
                    axisLabel: {hideOverlap: true}};
    var value = {type: "value"};
    return {
      color: palette,
      aria: {enabled: true},
      animation: false,
      legend: {top: 0, type: "scroll"},
      grid: {left: 8, right: 16, top: 36, bottom: 8, containLabel: true},
      tooltip: {trigger: "axis", formatter: axisTooltip},
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({inverse: true}, category,
                                        {axisLabel: {width: narrow ? 80 : 160, overflow: "truncate"}})
                        : value,
      series: spec.series.map(function (s) {
        return {name: s.name, type: spec.kind === "line" ? "line" : "bar", data: s.data,
                showSymbol: spec.categories.length < 40, smooth: false};
      })
    };
  }

  function heatmapOptions(spec) {
    return {
      aria: {enabled: true},
      animation: false,
      grid: {left: 8, right: 8, top: 8, bottom: 72, containLabel: true},
      tooltip: {formatter: function (p) {
        return esc(spec.rows[p.value[1]] + " " + spec.categories[p.value[0]] + ":00") +
               "<br>" + esc(p.value[2]) + " order(s)";
      }},
      xAxis: {type: "category", data: spec.categories, splitArea: {show: true}},
      yAxis: {type: "category", data: spec.rows, inverse: true, splitArea: {show: true}},
      visualMap: {min: 0, max: Math.max(spec.max, 1), calculable: false, orient: "horizontal",
                  left: "center", bottom: 0, itemHeight: 160, text: ["more orders", "none"],
                  inRange: {color: ["#f6f8fa", "#9ec5fe", "#0b57d0"]}},
      series: [{name: "Orders", type: "heatmap", data: spec.cells,
                emphasis: {itemStyle: {borderColor: "#1b1f24", borderWidth: 1}}}]
    };
  }

  function draw(element) {
    var spec = JSON.parse(element.getAttribute("data-chart"));
    var chart = echarts.init(element, null, {renderer: "canvas"});
    chart.setOption(spec.kind === "heatmap" ? heatmapOptions(spec) : seriesOptions(spec));
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "true");
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
}());
