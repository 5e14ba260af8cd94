// The English catalog of the UI (see ../i18n.js). Keys are grouped by page; es.js has every key.
export default {
  'error.generic': 'The request failed ({status}).',
  'error.unreachable': 'The server cannot be reached. Check the connection and try again.',
};
