/* Small progressive enhancements; every page works without this script.
   - show and hide questions at once, using the same condition language as the server;
   - move focus to the error summary when a page has errors;
   - a print button on the summary. */
(function () {
  "use strict";

  function answersOf(form, base) {
    var answers = Object.assign({}, base);
    form.querySelectorAll(".question").forEach(function (block) {
      var inputs = block.querySelectorAll("input[name]");
      if (!inputs.length) { return; }
      var name = inputs[0].name;
      delete answers[name];
      if (block.hidden) { return; }
      var multi = inputs[0].type === "checkbox";
      var picked = [];
      inputs.forEach(function (input) { if (input.checked) { picked.push(input.value); } });
      if (multi && picked.length) { answers[name] = picked; }
      if (!multi && picked.length) {
        answers[name] = /^\d+$/.test(picked[0]) && block.querySelector(".scale") ? parseInt(picked[0], 10) : picked[0];
      }
    });
    return answers;
  }

  function rank(orders, question, value) {
    if (typeof value === "number") { return value; }
    var list = orders[question] || [];
    var index = list.indexOf(value);
    return index < 0 ? null : index;
  }

  function test(cond, answers, orders) {
    if (cond.all) { return cond.all.every(function (c) { return test(c, answers, orders); }); }
    if (cond.any) { return cond.any.some(function (c) { return test(c, answers, orders); }); }
    if (cond.not) { return !test(cond.not, answers, orders); }
    var answer = answers[cond.question];
    if (answer === undefined || answer === null) { return false; }
    var list = Array.isArray(answer) ? answer : null;
    if ("is" in cond) { return answer === cond.is; }
    if ("in" in cond) { return typeof answer === "string" && cond.in.indexOf(answer) >= 0; }
    if ("has" in cond) { return !!list && list.indexOf(cond.has) >= 0; }
    if ("has_any" in cond) { return !!list && cond.has_any.some(function (v) { return list.indexOf(v) >= 0; }); }
    if ("has_all" in cond) { return !!list && cond.has_all.every(function (v) { return list.indexOf(v) >= 0; }); }
    var have = rank(orders, cond.question, answer);
    if (have === null) { return false; }
    if ("at_least" in cond) { return have >= rank(orders, cond.question, cond.at_least); }
    if ("at_most" in cond) { return have <= rank(orders, cond.question, cond.at_most); }
    return false;
  }

  function update(form, base, orders) {
    // Questions only depend on earlier ones, so one pass in page order settles them.
    var shown = [];
    form.querySelectorAll(".question").forEach(function (block) {
      var raw = block.getAttribute("data-show-when");
      if (raw) {
        var visible = test(JSON.parse(raw), answersOf(form, base), orders);
        block.hidden = !visible;
        block.querySelectorAll("input").forEach(function (input) { input.disabled = !visible; });
      }
      if (!block.hidden && block.id) { shown.push(block.id); }
    });
    var field = form.querySelector("[data-shown]");
    if (field) { field.value = shown.join(" "); }
  }

  document.querySelectorAll("form[data-questionnaire]").forEach(function (form) {
    var base = JSON.parse(form.getAttribute("data-answers") || "{}");
    var orders = JSON.parse(form.getAttribute("data-orders") || "{}");
    form.addEventListener("change", function () { update(form, base, orders); });
    update(form, base, orders);
  });

  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
