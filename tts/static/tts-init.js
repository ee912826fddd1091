// Runs first in <body>: tells govuk-frontend's CSS that JavaScript is available.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
