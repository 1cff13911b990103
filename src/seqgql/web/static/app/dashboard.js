var In=Object.defineProperty;var Nn=(e,t,n)=>t in e?In(e,t,{enumerable:!0,configurable:!0,writable:!0,value:n}):e[t]=n;var pe=(e,t,n)=>Nn(e,typeof t!="symbol"?t+"":t,n);var qe,I,ht,An,se,pt,gt,bt,Qe,Te,ye,yt,Ye,Ke,Je,On,Ae={},Oe=[],Pn=/acit|ex(?:s|g|n|p|$)|rph|grid|ows|mnc|ntw|ine[ch]|zoo|^ord|itera/i,De=Array.isArray;function ne(e,t){for(var n in t)e[n]=t[n];return e}function Ze(e){e&&e.parentNode&&e.parentNode.removeChild(e)}function Xe(e,t,n){var r,s,o,i={};for(o in t)o=="key"?r=t[o]:o=="ref"?s=t[o]:i[o]=t[o];if(arguments.length>2&&(i.children=arguments.length>3?qe.call(arguments,2):n),typeof e=="function"&&e.defaultProps!=null)for(o in e.defaultProps)i[o]===void 0&&(i[o]=e.defaultProps[o]);return Ie(e,i,r,s,null)}function Ie(e,t,n,r,s){var o={type:e,props:t,key:n,ref:r,__k:null,__:null,__b:0,__e:null,__c:null,constructor:void 0,__v:s??++ht,__i:-1,__u:0};return s==null&&I.vnode!=null&&I.vnode(o),o}function Re(e){return e.children}function Ne(e,t){this.props=e,this.context=t}function le(e,t){if(t==null)return e.__?le(e.__,e.__i+1):null;for(var n;t<e.__k.length;t++)if((n=e.__k[t])!=null&&n.__e!=null)return n.__e;return typeof e.type=="function"?le(e):null}function qn(e){if(e.__P&&e.__d){var t=e.__v,n=t.__e,r=[],s=[],o=ne({},t);o.__v=t.__v+1,I.vnode&&I.vnode(o),et(e.__P,o,t,e.__n,e.__P.namespaceURI,32&t.__u?[n]:null,r,n??le(t),!!(32&t.__u),s),o.__v=t.__v,o.__.__k[o.__i]=o,xt(r,o,s),t.__e=t.__=null,o.__e!=n&&$t(o)}}function $t(e){if((e=e.__)!=null&&e.__c!=null)return e.__e=e.__c.base=null,e.__k.some(function(t){if(t!=null&&t.__e!=null)return e.__e=e.__c.base=t.__e}),$t(e)}function mt(e){(!e.__d&&(e.__d=!0)&&se.push(e)&&!Pe.__r++||pt!=I.debounceRendering)&&((pt=I.debounceRendering)||gt)(Pe)}function Pe(){try{for(var e,t=1;se.length;)se.length>t&&se.sort(bt),e=se.shift(),t=se.length,qn(e)}finally{se.length=Pe.__r=0}}function vt(e,t,n,r,s,o,i,u,d,c,l){var f,a,m,g,w,k,$=r&&r.__k||Oe,_=t.length;for(d=Dn(n,t,$,d,_),f=0;f<_;f++)(m=n.__k[f])!=null&&(a=m.__i!=-1&&$[m.__i]||Ae,m.__i=f,k=et(e,m,a,s,o,i,u,d,c,l),g=m.__e,m.ref&&a.ref!=m.ref&&(a.ref&&tt(a.ref,null,m),l.push(m.ref,m.__c||g,m)),w==null&&g!=null&&(w=g),4&m.__u?(d=St(m,d,e),a.__e&&(a.__e=null)):typeof m.type=="function"&&k!==void 0?d=k:g&&(d=g.nextSibling),m.__u&=-7);return n.__e=w,d}function Dn(e,t,n,r,s){var o,i,u,d,c,l=n.length,f=l,a=0;for(e.__k=new Array(s),o=0;o<s;o++)(i=t[o])!=null&&typeof i!="boolean"&&typeof i!="function"?(typeof i=="string"||typeof i=="number"||typeof i=="bigint"||i.constructor==String?i=e.__k[o]=Ie(null,i,null,null,null):De(i)?i=e.__k[o]=Ie(Re,{children:i},null,null,null):i.constructor===void 0&&i.__b>0?i=e.__k[o]=Ie(i.type,i.props,i.key,i.ref?i.ref:null,i.__v):e.__k[o]=i,d=o+a,i.__=e,i.__b=e.__b+1,u=null,(c=i.__i=Rn(i,n,d,f))!=-1&&(f--,(u=n[c])&&(u.__u|=2)),u==null||u.__v==null?(c==-1&&(s>l?a--:s<l&&a++),typeof i.type!="function"&&(i.__u|=4)):c!=d&&(c==d-1?a--:c==d+1?a++:(c>d?a--:a++,i.__u|=4))):e.__k[o]=null;if(f)for(o=0;o<l;o++)(u=n[o])!=null&&(2&u.__u)==0&&(u.__e==r&&(r=le(u)),wt(u,u));return r}function St(e,t,n){var r,s;if(typeof e.type=="function"){for(r=e.__k,s=0;r&&s<r.length;s++)r[s]&&(r[s].__=e,t=St(r[s],t,n));return t}e.__e!=t&&(t&&e.type&&!t.parentNode&&(t=le(e)),t=n.insertBefore(e.__e,t||null));do t=t&&t.nextSibling;while(t!=null&&t.nodeType==8);return t}function Rn(e,t,n,r){var s,o,i,u=e.key,d=e.type,c=t[n],l=c!=null&&(2&c.__u)==0;if(c===null&&u==null||l&&u==c.key&&d==c.type)return n;if(r>(l?1:0)){for(s=n-1,o=n+1;s>=0||o<t.length;)if((c=t[i=s>=0?s--:o++])!=null&&(2&c.__u)==0&&u==c.key&&d==c.type)return i}return-1}function ft(e,t,n){t[0]=="-"?e.setProperty(t,n??""):e[t]=n==null?"":typeof n!="number"||Pn.test(t)?n:n+"px"}function Ce(e,t,n,r,s){var o,i;e:if(t=="style")if(typeof n=="string")e.style.cssText=n;else{if(typeof r=="string"&&(e.style.cssText=r=""),r)for(t in r)n&&t in n||ft(e.style,t,"");if(n)for(t in n)r&&n[t]==r[t]||ft(e.style,t,n[t])}else if(t[0]=="o"&&t[1]=="n")o=t!=(t=t.replace(yt,"$1")),i=t.toLowerCase(),t=i in e||t=="onFocusOut"||t=="onFocusIn"?i.slice(2):t.slice(2),e.l||(e.l={}),e.l[t+o]=n,n?r?n[ye]=r[ye]:(n[ye]=Ye,e.addEventListener(t,o?Je:Ke,o)):e.removeEventListener(t,o?Je:Ke,o);else{if(s=="http://www.w3.org/2000/svg")t=t.replace(/xlink(H|:h)/,"h").replace(/sName$/,"s");else if(t!="width"&&t!="height"&&t!="href"&&t!="list"&&t!="form"&&t!="tabIndex"&&t!="download"&&t!="rowSpan"&&t!="colSpan"&&t!="role"&&t!="popover"&&t in e)try{e[t]=n??"";break e}catch{}typeof n=="function"||(n==null||n===!1&&t[4]!="-"?e.removeAttribute(t):e.setAttribute(t,t=="popover"&&n==1?"":n))}}function _t(e){return function(t){if(this.l){var n=this.l[t.type+e];if(t[Te]==null)t[Te]=Ye++;else if(t[Te]<n[ye])return;return n(I.event?I.event(t):t)}}}function et(e,t,n,r,s,o,i,u,d,c){var l,f,a,m,g,w,k,$,_,S,F,P,T,W,Q,J,L=t.type;if(t.constructor!==void 0)return null;128&n.__u&&(d=!!(32&n.__u),o=[u=t.__e=n.__e]),(l=I.__b)&&l(t);e:if(typeof L=="function"){f=i.length;try{if(_=t.props,S=L.prototype&&L.prototype.render,F=(l=L.contextType)&&r[l.__c],P=l?F?F.props.value:l.__:r,n.__c?$=(a=t.__c=n.__c).__=a.__E:(S?t.__c=a=new L(_,P):(t.__c=a=new Ne(_,P),a.constructor=L,a.render=Un),F&&F.sub(a),a.state||(a.state={}),a.__n=r,m=a.__d=!0,a.__h=[],a._sb=[]),S&&a.__s==null&&(a.__s=a.state),S&&L.getDerivedStateFromProps!=null&&(a.__s==a.state&&(a.__s=ne({},a.__s)),ne(a.__s,L.getDerivedStateFromProps(_,a.__s))),g=a.props,w=a.state,a.__v=t,m)S&&L.getDerivedStateFromProps==null&&a.componentWillMount!=null&&a.componentWillMount(),S&&a.componentDidMount!=null&&a.__h.push(a.componentDidMount);else{if(S&&L.getDerivedStateFromProps==null&&_!==g&&a.componentWillReceiveProps!=null&&a.componentWillReceiveProps(_,P),t.__v==n.__v||!a.__e&&a.shouldComponentUpdate!=null&&a.shouldComponentUpdate(_,a.__s,P)===!1){t.__v!=n.__v&&(a.props=_,a.state=a.__s,a.__d=!1),t.__e=n.__e,t.__k=n.__k,t.__k.some(function(Y){Y&&(Y.__=t)}),Oe.push.apply(a.__h,a._sb),a._sb=[],a.__h.length&&i.push(a),u=le(n);break e}a.componentWillUpdate!=null&&a.componentWillUpdate(_,a.__s,P),S&&a.componentDidUpdate!=null&&a.__h.push(function(){a.componentDidUpdate(g,w,k)})}if(a.context=P,a.props=_,a.__P=e,a.__e=!1,T=I.__r,W=0,S)a.state=a.__s,a.__d=!1,T&&T(t),l=a.render(a.props,a.state,a.context),Oe.push.apply(a.__h,a._sb),a._sb=[];else do a.__d=!1,T&&T(t),l=a.render(a.props,a.state,a.context),a.state=a.__s;while(a.__d&&++W<25);a.state=a.__s,a.getChildContext!=null&&(r=ne(ne({},r),a.getChildContext())),S&&!m&&a.getSnapshotBeforeUpdate!=null&&(k=a.getSnapshotBeforeUpdate(g,w)),Q=l!=null&&l.type===Re&&l.key==null?kt(l.props.children):l,u=vt(e,De(Q)?Q:[Q],t,n,r,s,o,i,u,d,c),a.base=t.__e,t.__u&=-161,a.__h.length&&i.push(a),$&&(a.__E=a.__=null)}catch(Y){if(i.length=f,t.__v=null,d||o!=null){if(Y.then){for(t.__u|=d?160:128;u&&u.nodeType==8&&u.nextSibling;)u=u.nextSibling;o!=null&&(o[o.indexOf(u)]=null),t.__e=u}else if(o!=null)for(J=o.length;J--;)Ze(o[J])}else t.__e=n.__e;t.__k==null&&(t.__k=n.__k||[]),Y.then||Et(t),I.__e(Y,t,n)}}else o==null&&t.__v==n.__v?(t.__k=n.__k,t.__e=n.__e):u=t.__e=Mn(n.__e,t,n,r,s,o,i,d,c);return(l=I.diffed)&&l(t),128&t.__u?void 0:u}function Et(e){e&&(e.__c&&(e.__c.__e=!0),e.__k&&e.__k.some(Et))}function xt(e,t,n){for(var r=0;r<n.length;r++)tt(n[r],n[++r],n[++r]);I.__c&&I.__c(t,e),e.some(function(s){try{e=s.__h,s.__h=[],e.some(function(o){o.call(s)})}catch(o){I.__e(o,s.__v)}})}function kt(e){return typeof e!="object"||e==null||e.__b>0?e:De(e)?e.map(kt):e.constructor!==void 0?null:ne({},e)}function Mn(e,t,n,r,s,o,i,u,d){var c,l,f,a,m,g,w,k=n.props||Ae,$=t.props,_=t.type;if(_=="svg"?s="http://www.w3.org/2000/svg":_=="math"?s="http://www.w3.org/1998/Math/MathML":s||(s="http://www.w3.org/1999/xhtml"),o!=null){for(c=0;c<o.length;c++)if((m=o[c])&&"setAttribute"in m==!!_&&(_?m.localName==_:m.nodeType==3)){e=m,o[c]=null;break}}if(e==null){if(_==null)return document.createTextNode($);e=document.createElementNS(s,_,$.is&&$),u&&(I.__m&&I.__m(t,o),u=!1),o=null}if(_==null)k===$||u&&e.data==$||(e.data=$);else{if(o=_=="textarea"&&$.defaultValue!=null?null:o&&qe.call(e.childNodes),!u&&o!=null)for(k={},c=0;c<e.attributes.length;c++)k[(m=e.attributes[c]).name]=m.value;for(c in k)m=k[c],c=="dangerouslySetInnerHTML"?f=m:c=="children"||c in $||c=="value"&&"defaultValue"in $||c=="checked"&&"defaultChecked"in $||Ce(e,c,null,m,s);for(c in $)m=$[c],c=="children"?a=m:c=="dangerouslySetInnerHTML"?l=m:c=="value"?g=m:c=="checked"?w=m:u&&typeof m!="function"||k[c]===m||Ce(e,c,m,k[c],s);if(l)u||f&&(l.__html==f.__html||l.__html==e.innerHTML)||(e.innerHTML=l.__html),t.__k=[];else if(f&&(e.innerHTML=""),vt(t.type=="template"?e.content:e,De(a)?a:[a],t,n,r,_=="foreignObject"?"http://www.w3.org/1999/xhtml":s,o,i,o?o[0]:n.__k&&le(n,0),u,d),o!=null)for(c=o.length;c--;)Ze(o[c]);u&&_!="textarea"||(c="value",_=="progress"&&g==null?e.removeAttribute("value"):g!=null&&(g!==e[c]||_=="progress"&&!g||_=="option"&&g!=k[c])&&Ce(e,c,g,k[c],s),c="checked",w!=null&&w!=e[c]&&Ce(e,c,w,k[c],s))}return e}function tt(e,t,n){try{if(typeof e=="function"){var r=typeof e.__u=="function";r&&e.__u(),r&&t==null||(e.__u=e(t))}else e.current=t}catch(s){I.__e(s,n)}}function wt(e,t,n){var r,s;if(I.unmount&&I.unmount(e),(r=e.ref)&&(r.current&&r.current!=e.__e||tt(r,null,t)),(r=e.__c)!=null){if(r.componentWillUnmount)try{r.componentWillUnmount()}catch(o){I.__e(o,t)}r.base=r.__P=r.__n=null}if(r=e.__k)for(s=0;s<r.length;s++)r[s]&&wt(r[s],t,n||typeof e.type!="function");n||Ze(e.__e),e.__c=e.__=e.__e=void 0}function Un(e,t,n){return this.constructor(e,n)}function Ct(e,t,n){var r,s,o,i;t==document&&(t=document.documentElement),I.__&&I.__(e,t),s=(r=typeof n=="function")?null:n&&n.__k||t.__k,o=[],i=[],et(t,e=(!r&&n||t).__k=Xe(Re,null,[e]),s||Ae,Ae,t.namespaceURI,!r&&n?[n]:s?null:t.firstChild?qe.call(t.childNodes):null,o,!r&&n?n:s?s.__e:t.firstChild,r,i),xt(o,e,i),e.props.children=null}qe=Oe.slice,I={__e:function(e,t,n,r){for(var s,o,i;t=t.__;)if((s=t.__c)&&!s.__)try{if((o=s.constructor)&&o.getDerivedStateFromError!=null&&(s.setState(o.getDerivedStateFromError(e)),i=s.__d),s.componentDidCatch!=null&&(s.componentDidCatch(e,r||{}),i=s.__d),i)return s.__E=s}catch(u){e=u}throw e}},ht=0,An=function(e){return e!=null&&e.constructor===void 0},Ne.prototype.setState=function(e,t){var n;n=this.__s!=null&&this.__s!=this.state?this.__s:this.__s=ne({},this.state),typeof e=="function"&&(e=e(ne({},n),this.props)),e&&ne(n,e),e!=null&&this.__v&&(t&&this._sb.push(t),mt(this))},Ne.prototype.forceUpdate=function(e){this.__v&&(this.__e=!0,e&&this.__h.push(e),mt(this))},Ne.prototype.render=Re,se=[],gt=typeof Promise=="function"?Promise.prototype.then.bind(Promise.resolve()):setTimeout,bt=function(e,t){return e.__v.__b-t.__v.__b},Pe.__r=0,Qe=Math.random().toString(8),Te="__d"+Qe,ye="__a"+Qe,yt=/(PointerCapture)$|Capture$/i,Ye=0,Ke=_t(!1),Je=_t(!0),On=0;var It=function(e,t,n,r){var s;t[0]=0;for(var o=1;o<t.length;o++){var i=t[o++],u=t[o]?(t[0]|=i?1:2,n[t[o++]]):t[++o];i===3?r[0]=u:i===4?r[1]=Object.assign(r[1]||{},u):i===5?(r[1]=r[1]||{})[t[++o]]=u:i===6?r[1][t[++o]]+=u+"":i?(s=e.apply(u,It(e,u,n,["",null])),r.push(s),u[0]?t[0]|=2:(t[o-2]=0,t[o]=s)):r.push(u)}return r},Tt=new Map;function Nt(e){var t=Tt.get(this);return t||(t=new Map,Tt.set(this,t)),(t=It(this,t.get(e)||(t.set(e,t=(function(n){for(var r,s,o=1,i="",u="",d=[0],c=function(a){o===1&&(a||(i=i.replace(/^\s*\n\s*|\s*\n\s*$/g,"")))?d.push(0,a,i):o===3&&(a||i)?(d.push(3,a,i),o=2):o===2&&i==="..."&&a?d.push(4,a,0):o===2&&i&&!a?d.push(5,0,!0,i):o>=5&&((i||!a&&o===5)&&(d.push(o,0,i,s),o=6),a&&(d.push(o,a,0,s),o=6)),i=""},l=0;l<n.length;l++){l&&(o===1&&c(),c(l));for(var f=0;f<n[l].length;f++)r=n[l][f],o===1?r==="<"?(c(),d=[d],o=3):i+=r:o===4?i==="--"&&r===">"?(o=1,i=""):i=r+i[0]:u?r===u?u="":i+=r:r==='"'||r==="'"?u=r:r===">"?(c(),o=1):o&&(r==="="?(o=5,s=i,i=""):r==="/"&&(o<5||n[l][f+1]===">")?(c(),o===3&&(d=d[0]),o=d,(d=d[0]).push(2,0,o),o=0):r===" "||r==="	"||r===`
`||r==="\r"?(c(),o=2):i+=r),o===3&&i==="!--"&&(o=4,d=d[0])}return c(),d})(e)),t),arguments,[])).length>1?t:t[0]}var p=Nt.bind(Xe),Ln=0,At=e=>`${e}-${++Ln}`;var $e,D,nt,Ot,Ue=0,Bt=[],R=I,Pt=R.__b,qt=R.__r,Dt=R.diffed,Rt=R.__c,Mt=R.unmount,Ut=R.__;function rt(e,t){R.__h&&R.__h(D,e,Ue||t),Ue=0;var n=D.__H||(D.__H={__:[],__h:[]});return e>=n.__.length&&n.__.push({}),n.__[e]}function b(e){return Ue=1,Bn(Ht,e)}function Bn(e,t,n){var r=rt($e++,2);if(r.t=e,!r.__c&&(r.__=[n?n(t):Ht(void 0,t),function(u){var d=r.__N?r.__N[0]:r.__[0],c=r.t(d,u);d!==c&&(r.__N=[c,r.__[1]],r.__c.setState({}))}],r.__c=D,!D.__f)){var s=function(u,d,c){if(!r.__c.__H)return!0;var l=!1,f=r.__c.props!==u;if(r.__c.__H.__.some(function(m){if(m.__N){l=!0;var g=m.__[0];m.__=m.__N,m.__N=void 0,g!==m.__[0]&&(f=!0)}}),o){var a=o.call(this,u,d,c);return l?a||f:a}return!l||f};D.__f=!0;var o=D.shouldComponentUpdate,i=D.componentWillUpdate;D.componentWillUpdate=function(u,d,c){if(this.__e){var l=o;o=void 0,s(u,d,c),o=l}i&&i.call(this,u,d,c)},D.shouldComponentUpdate=s}return r.__N||r.__}function M(e,t){var n=rt($e++,3);!R.__s&&Ft(n.__H,t)&&(n.__=e,n.u=t,D.__H.__h.push(n))}function ce(e){return Ue=5,ve(function(){return{current:e}},[])}function ve(e,t){var n=rt($e++,7);return Ft(n.__H,t)&&(n.__=e(),n.__H=t,n.__h=e),n.__}function Fn(){for(var e;e=Bt.shift();){var t=e.__H;if(e.__P&&t)try{t.__h.some(Me),t.__h.some(ot),t.__h=[]}catch(n){t.__h=[],R.__e(n,e.__v)}}}R.__b=function(e){D=null,Pt&&Pt(e)},R.__=function(e,t){e&&t.__k&&t.__k.__m&&(e.__m=t.__k.__m),Ut&&Ut(e,t)},R.__r=function(e){qt&&qt(e),$e=0;var t=(D=e.__c).__H;t&&(nt===D?(t.__h=[],D.__h=[],t.__.some(function(n){n.__N&&(n.__=n.__N),n.u=n.__N=void 0})):(t.__h.some(Me),t.__h.some(ot),t.__h=[],$e=0)),nt=D},R.diffed=function(e){Dt&&Dt(e);var t=e.__c;t&&t.__H&&(t.__H.__h.length&&(Bt.push(t)!==1&&Ot===R.requestAnimationFrame||((Ot=R.requestAnimationFrame)||Hn)(Fn)),t.__H.__.some(function(n){n.u&&(n.__H=n.u,n.u=void 0)})),nt=D=null},R.__c=function(e,t){t.some(function(n){try{n.__h.some(Me),n.__h=n.__h.filter(function(r){return!r.__||ot(r)})}catch(r){t.some(function(s){s.__h&&(s.__h=[])}),t=[],R.__e(r,n.__v)}}),Rt&&Rt(e,t)},R.unmount=function(e){Mt&&Mt(e);var t,n=e.__c;n&&n.__H&&(n.__H.__.some(function(r){try{Me(r)}catch(s){t=s}}),n.__H=void 0,t&&R.__e(t,n.__v))};var Lt=typeof requestAnimationFrame=="function";function Hn(e){var t,n=function(){clearTimeout(r),Lt&&cancelAnimationFrame(t),setTimeout(e)},r=setTimeout(n,35);Lt&&(t=requestAnimationFrame(n))}function Me(e){var t=D,n=e.__c;typeof n=="function"&&(e.__c=void 0,n()),D=t}function ot(e){var t=D;e.__c=e.__(),D=t}function Ft(e,t){return!e||e.length!==t.length||t.some(function(n,r){return n!==e[r]})}function Ht(e,t){return typeof t=="function"?t(e):t}function H(e){return e===null?"null":Array.isArray(e)?"array":typeof e}function ae(e){return H(e)==="object"}function Wn(e){return Array.isArray(e)&&e.length>0&&e.every(t=>"message"in t)}function st(e,t){return e.length<124?e:t}var Wt="graphql-transport-ws";var j=(e=>(e[e.InternalServerError=4500]="InternalServerError",e[e.InternalClientError=4005]="InternalClientError",e[e.BadRequest=4400]="BadRequest",e[e.BadResponse=4004]="BadResponse",e[e.Unauthorized=4401]="Unauthorized",e[e.Forbidden=4403]="Forbidden",e[e.SubprotocolNotAcceptable=4406]="SubprotocolNotAcceptable",e[e.ConnectionInitialisationTimeout=4408]="ConnectionInitialisationTimeout",e[e.ConnectionAcknowledgementTimeout=4504]="ConnectionAcknowledgementTimeout",e[e.SubscriberAlreadyExists=4409]="SubscriberAlreadyExists",e[e.TooManyInitialisationRequests=4429]="TooManyInitialisationRequests",e))(j||{}),V=(e=>(e.ConnectionInit="connection_init",e.ConnectionAck="connection_ack",e.Ping="ping",e.Pong="pong",e.Subscribe="subscribe",e.Next="next",e.Error="error",e.Complete="complete",e))(V||{});function zt(e){if(!ae(e))throw new Error(`Message is expected to be an object, but got ${H(e)}`);if(!e.type)throw new Error("Message is missing the 'type' property");if(typeof e.type!="string")throw new Error(`Message is expects the 'type' property to be a string, but got ${H(e.type)}`);switch(e.type){case"connection_init":case"connection_ack":case"ping":case"pong":{if(e.payload!=null&&!ae(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${e.payload}"`);break}case"subscribe":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${H(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!ae(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${H(e.payload)}`);if(typeof e.payload.query!="string")throw new Error(`"${e.type}" message payload expects the 'query' property to be a string, but got ${H(e.payload.query)}`);if(e.payload.variables!=null&&!ae(e.payload.variables))throw new Error(`"${e.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${H(e.payload.variables)}`);if(e.payload.operationName!=null&&H(e.payload.operationName)!=="string")throw new Error(`"${e.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${H(e.payload.operationName)}`);if(e.payload.extensions!=null&&!ae(e.payload.extensions))throw new Error(`"${e.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${H(e.payload.extensions)}`);break}case"next":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${H(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!ae(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${H(e.payload)}`);break}case"error":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${H(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!Wn(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(e.payload)}`);break}case"complete":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${H(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);break}default:throw new Error(`Invalid message 'type' property "${e.type}"`)}return e}function Gt(e,t){return zt(typeof e=="string"?JSON.parse(e,t):e)}function me(e,t){return zt(e),JSON.stringify(e,t)}function it(e){let{url:t,connectionParams:n,lazy:r=!0,onNonLazyError:s=console.error,lazyCloseTimeout:o=0,keepAlive:i=0,disablePong:u,connectionAckWaitTimeout:d=0,retryAttempts:c=5,retryWait:l=async function(C){let y=Math.pow(2,C);await new Promise(x=>setTimeout(x,y*1e3+Math.floor(Math.random()*2700+300)))},shouldRetry:f=at,on:a,webSocketImpl:m,generateID:g=function(){return"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g,C=>{let y=Math.random()*16|0;return(C=="x"?y:y&3|8).toString(16)})},jsonMessageReplacer:w,jsonMessageReviver:k}=e,$;if(m){if(!Gn(m))throw new Error("Invalid WebSocket implementation provided");$=m}else typeof WebSocket<"u"?$=WebSocket:typeof global<"u"?$=global.WebSocket||global.MozWebSocket:typeof window<"u"&&($=window.WebSocket||window.MozWebSocket);if(!$)throw new Error("WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`");let _=$,S=(()=>{let v=(()=>{let y={};return{on(x,A){return y[x]=A,()=>{delete y[x]}},emit(x){"id"in x&&y[x.id]?.(x)}}})(),C={connecting:a?.connecting?[a.connecting]:[],opened:a?.opened?[a.opened]:[],connected:a?.connected?[a.connected]:[],ping:a?.ping?[a.ping]:[],pong:a?.pong?[a.pong]:[],message:a?.message?[v.emit,a.message]:[v.emit],closed:a?.closed?[a.closed]:[],error:a?.error?[a.error]:[]};return{onMessage:v.on,on(y,x){let A=C[y];return A.push(x),()=>{let O=A.indexOf(x);O>-1&&A.splice(O,1)}},emit(y,...x){for(let A of[...C[y]])A(...x)}}})();function F(v){let C=[S.on("error",y=>{C.forEach(x=>x()),v(y)}),S.on("closed",y=>{C.forEach(x=>x()),v(y)})];return()=>C.forEach(y=>y())}let P,T=0,W,Q=!1,J=0,L=!1;async function Y(){clearTimeout(W);let[v,C]=await(P??(P=new Promise((A,O)=>(async()=>{if(Q){if(await l(J),!T)return P=void 0,O({code:1e3,reason:"All Subscriptions Gone"});J++}S.emit("connecting",Q);let E=new _(typeof t=="function"?await t():t,Wt),z,Z;function re(){isFinite(i)&&i>0&&(clearTimeout(Z),Z=setTimeout(()=>{E.readyState===_.OPEN&&(E.send(me({type:V.Ping})),S.emit("ping",!1,void 0))},i))}F(U=>{P=void 0,clearTimeout(z),clearTimeout(Z),O(U),U instanceof Se&&(E.close(4499,"Terminated"),E.onerror=null,E.onclose=null)}),E.onerror=U=>S.emit("error",U),E.onclose=U=>S.emit("closed",U),E.onopen=async()=>{try{S.emit("opened",E);let U=typeof n=="function"?await n():n;if(E.readyState!==_.OPEN)return;E.send(me(U?{type:V.ConnectionInit,payload:U}:{type:V.ConnectionInit},w)),isFinite(d)&&d>0&&(z=setTimeout(()=>{E.close(j.ConnectionAcknowledgementTimeout,"Connection acknowledgement timeout")},d)),re()}catch(U){S.emit("error",U),E.close(j.InternalClientError,st(U instanceof Error?U.message:String(U),"Internal client error"))}};let X=!1;E.onmessage=({data:U})=>{try{let q=Gt(U,k);if(S.emit("message",q),q.type==="ping"||q.type==="pong"){S.emit(q.type,!0,q.payload),q.type==="pong"?re():u||(E.send(me(q.payload?{type:V.Pong,payload:q.payload}:{type:V.Pong},w)),S.emit("pong",!1,q.payload));return}if(X)return;if(q.type!==V.ConnectionAck)throw new Error(`First message cannot be of type ${q.type}`);clearTimeout(z),X=!0,S.emit("connected",E,q.payload,Q),Q=!1,J=0;let we=new Promise((h,K)=>F(K));we.catch(()=>{}),A([E,we])}catch(q){E.onmessage=null,S.emit("error",q),E.close(j.BadResponse,st(q instanceof Error?q.message:String(q),"Bad response"))}}})())));v.readyState===_.CLOSING&&await C;let y=()=>{},x=new Promise(A=>y=A);return[v,y,new Promise((A,O)=>{let E=F(O);v.readyState!==_.OPEN&&C.catch(O),x.then(()=>{if(E(),!T){let z=()=>v.close(1e3,"Normal Closure");isFinite(o)&&o>0?(clearTimeout(W),W=setTimeout(()=>{!T&&v.readyState===_.OPEN&&z()},o)):z()}A()})})]}function be(v){if(at(v)&&(zn(v.code)||[j.InternalServerError,j.InternalClientError,j.BadRequest,j.BadResponse,j.Unauthorized,j.SubprotocolNotAcceptable,j.SubscriberAlreadyExists,j.TooManyInitialisationRequests].includes(v.code)))throw v;if(L)return!1;if(at(v)&&v.code===1e3)return T>0;if(!c||J>=c||!f(v))throw v;return Q=!0}r||(async()=>{for(T++;;)try{let[,,v]=await Y();await v}catch(v){try{if(!be(v))return}catch(C){return s?.(C)}}})();function de(v,C){let y=g(v),x=!1,A=!1,O=()=>{T--,x=!0};return(async()=>{for(T++;;)try{let[E,z,Z]=await Y();if(x)return Z.catch(()=>{}),z();let re=S.onMessage(y,X=>{switch(X.type){case V.Next:{C.next(X.payload);return}case V.Error:{A=!0,x=!0,C.error(X.payload),O();return}case V.Complete:{x=!0,O();return}}});E.send(me({id:y,type:V.Subscribe,payload:v},w)),O=()=>{!x&&E.readyState===_.OPEN&&E.send(me({id:y,type:V.Complete},w)),T--,x=!0,z()},await Z.finally(re);return}catch(E){if(!be(E))return}})().then(()=>{A||C.complete()}).catch(E=>{C.error(E)}),()=>{x||O()}}return{on:S.on,subscribe:de,iterate(v){let C=[],y={done:!1,error:null,resolve:()=>{}},x=de(v,{next(O){C.push(O),y.resolve()},error(O){y.done=!0,y.error=O,y.resolve()},complete(){y.done=!0,y.resolve()}}),A=(async function*(){for(;;){for(C.length||await new Promise(E=>y.resolve=E);C.length;)yield C.shift();if(y.error)throw y.error;if(y.done)return}})();return A.throw=async O=>(y.done||(y.done=!0,y.error=O,y.resolve()),{done:!0,value:void 0}),A.return=async()=>(x(),{done:!0,value:void 0}),A},async dispose(){if(L=!0,P){let[v]=await P;v.close(1e3,"Normal Closure")}},terminate(){P&&S.emit("closed",new Se)}}}var Se=class extends Error{constructor(){super(...arguments);pe(this,"name","TerminatedCloseEvent");pe(this,"message","4499: Terminated");pe(this,"code",4499);pe(this,"reason","Terminated");pe(this,"wasClean",!1)}};function at(e){return ae(e)&&"code"in e&&"reason"in e}function zn(e){return[1e3,1001,1006,1005,1012,1013,1014].includes(e)?!1:e>=1e3&&e<=1999}function Gn(e){return typeof e=="function"&&"constructor"in e&&"CLOSED"in e&&"CLOSING"in e&&"CONNECTING"in e&&"OPEN"in e}var jt="/graphql",fe=class extends Error{constructor(t,n){super(t),this.code=n}};async function B(e,t,n={}){let r;try{r=await fetch(jt,{method:"POST",headers:{"content-type":"application/json",authorization:`Bearer ${e}`},body:JSON.stringify({query:t,variables:n})})}catch{throw new fe("The server cannot be reached; check the connection and retry.","OFFLINE")}let s=null;try{s=await r.json()}catch{throw new fe(`The server answered ${r.status}.`,"HTTP")}if(s.errors&&s.errors.length){let o=s.errors[0];throw new fe(o.message,o.extensions?.code||"ERROR")}if(!r.ok)throw new fe(`The server answered ${r.status}.`,"HTTP");return s.data}function jn(){return`${location.protocol==="https:"?"wss:":"ws:"}//${location.host}${jt}`}function Vt(e,t){let n=null,r=it({url:jn(),connectionParams:{authorization:`Bearer ${e}`},lazy:!0,keepAlive:5e3,retryAttempts:1/0,shouldRetry:()=>!0,retryWait:o=>new Promise(i=>setTimeout(i,Math.min(500*2**o,5e3))),on:{connecting:o=>t(o?"reconnecting":"connecting"),connected:()=>t("connected"),closed:()=>t("reconnecting"),ping:o=>{o||(n=setTimeout(()=>r.terminate(),4e3))},pong:o=>{o&&clearTimeout(n)}}}),s=()=>r.terminate();return window.addEventListener("offline",s),{subscribe(o,i,u){return r.subscribe(o,{next:d=>{d.errors&&d.errors.length?u?.(d.errors[0]):d.data&&i(d.data)},error:d=>u?.(Array.isArray(d)?d[0]:d),complete:()=>{}})},dispose(){window.removeEventListener("offline",s),clearTimeout(n),r.dispose()}}}var Le="query Viewer { viewer { id name email role } }",Qt="statusCounts { status count }",Kt=`
query Sequences($first: Int, $after: String, $last: Int, $before: String) {
  sequences(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id name active archived steps { position } ${Qt} } }
  }
}`,Be=`
subscription SequencesCounts($ids: [ID!]) {
  sequencesStatusCounts(sequenceIds: $ids) { sequenceId total counts { status count } }
}`,Jt=`position channel reached active awaitingReply paused notSent
  finished { total responded noResponse stopped } bounced failed optedOut omitted removed ended`,Yt=`
query Sequence($id: ID!) {
  sequence(id: $id) {
    id name active archived eventCursor
    steps { position channel subject }
    stepCounts { ${Jt} }
  }
  users(first: 100) { edges { node { id name } } }
  groups(first: 100) { edges { node { id name } } }
  sequences(first: 100) { edges { node { id name } } }
}`,lt=`id status reason currentStep enrolledAt statusChangedAt resumeAt
  contact { id name email phone } enrolledBy { id name }`,Zt=`
query Page($seq: ID!, $filter: EnrollmentFilter, $first: Int, $after: String,
           $last: Int, $before: String) {
  enrollments(sequenceId: $seq, filter: $filter, first: $first, after: $after,
              last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { ${lt} } }
  }
}`,Xt=`
query TabCounts($seq: ID!, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, filter: $filter, first: 0) { ${Qt} }
}`,en=`
subscription Changes($seq: ID!, $since: String) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since) {
    cursor number fromStatus toStatus reason occurredAt
    actor { name }
    enrollment { ${lt} }
  }
}`,tn=`
subscription StepCounts($seq: ID!) {
  sequenceStepCounts(sequenceId: $seq) { steps { ${Jt} } }
}`,nn=`
query Enrollment($id: ID!, $after: String) {
  node(id: $id) {
    ... on Enrollment {
      ${lt} nextRunAt finishedAt
      nextSend { at step channel waitingFor }
      activities(first: 50, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id kind step at detail } }
      }
    }
  }
}`,ue=`changedCount dryRun bulkOperationId
  skipped { reason count message }
  userErrors { field code message }`,on={pause:`mutation Pause($input: PauseEnrollmentsInput!) { result: pauseEnrollments(input: $input) { ${ue} } }`,resume:`mutation Resume($input: ResumeEnrollmentsInput!) { result: resumeEnrollments(input: $input) { ${ue} } }`,finish:`mutation Finish($input: FinishEnrollmentsInput!) { result: finishEnrollments(input: $input) { ${ue} } }`,remove:`mutation Remove($input: RemoveEnrollmentsInput!) { result: removeEnrollments(input: $input) { ${ue} } }`,restart:`mutation Restart($input: RestartEnrollmentsInput!) { result: restartEnrollments(input: $input) { ${ue} sequence { id name } } }`,group:`mutation AddToGroup($input: AddEnrollmentsToGroupInput!) { result: addEnrollmentsToGroup(input: $input) { ${ue} } }`,message:`mutation SendMessage($input: SendMessageInput!) { result: sendMessage(input: $input) {
    changedCount: sentCount dryRun skipped { reason count message } userErrors { field code message } } }`},rn=`
mutation Undo($input: UndoBulkOperationInput!) {
  result: undoBulkOperation(input: $input) { ${ue} }
}`;function sn({onSignedIn:e}){let[t,n]=b(""),[r,s]=b(null),[o,i]=b(!1);return p`
    <main class="signin" id="main">
      <h1>seqgql · Contacts dashboard</h1>
      <form onSubmit=${async d=>{d.preventDefault();let c=t.trim();if(!c){s("Paste an API token.");return}i(!0),s(null);try{let l=await B(c,Le);e(c,l.viewer)}catch(l){s(l.code==="UNAUTHENTICATED"?"This token is not valid (or was revoked).":l.message)}finally{i(!1)}}} class="card">
        <p>Sign in with an API token. <code>seqgql serve --demo</code> prints the demo
          workspace's; <code>seqgql token create --email you@example.com</code> makes one.
          It is kept in this tab only (session storage).</p>
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false"
               value=${t} onInput=${d=>n(d.currentTarget.value)}
               aria-invalid=${r?"true":"false"} aria-describedby=${r?"token-error":void 0} />
        ${r&&p`<p id="token-error" class="error" role="alert">${r}</p>`}
        <button type="submit" class="primary" disabled=${o}>${o?"Signing in…":"Sign in"}</button>
      </form>
    </main>`}var Ee=["ACTIVE","PAUSED","FINISHED","BOUNCED","FAILED","NOT_SENT","OPTED_OUT","OMITTED","REMOVED"],Vn={ACTIVE:"Active",PAUSED:"Paused",FINISHED:"Finished",BOUNCED:"Bounced",FAILED:"Failed",NOT_SENT:"Not sent",OPTED_OUT:"Opted out",OMITTED:"Omitted",REMOVED:"Removed"},an={MANUAL:"manually",OUT_OF_OFFICE:"out of office",ACTIVE_IN_OTHER_SEQUENCE:"active elsewhere",REPLIED:"responded",MEETING_BOOKED:"meeting booked",UNSUBSCRIBED:"unsubscribed",CHANGED_JOBS:"changed jobs",NO_LONGER_NEEDED:"no longer needed",OTHER:"stopped",COMPLETED_NO_RESPONSE:"no response",COMPANY_REPLIED:"company replied",MISSING_EMAIL:"missing email",MISSING_PHONE:"missing phone",BLOCKED_BY_RULE:"blocked by rule",OPTED_OUT:"opted out",LANDLINE:"landline",MOVED:"moved"},ln=[["REPLIED","Replied"],["MEETING_BOOKED","Meeting booked"],["UNSUBSCRIBED","Unsubscribed"],["CHANGED_JOBS","Changed jobs"],["NO_LONGER_NEEDED","No longer needed"],["OTHER","Other"]],_e=e=>Vn[e]||e;function he(e,t){let n=_e(e);return t&&an[t]?`${n}, ${an[t]}`:n}var xe=e=>e?e.charAt(0)+e.slice(1).toLowerCase().replaceAll("_"," "):"",Qn=new Intl.DateTimeFormat(void 0,{dateStyle:"medium"}),Kn=new Intl.DateTimeFormat(void 0,{dateStyle:"medium",timeStyle:"short"}),cn=e=>e?Qn.format(new Date(e)):"",oe=e=>e?Kn.format(new Date(e)):"",N=e=>(e??0).toLocaleString();function ge(e){let t={};for(let{status:n,count:r}of e||[])t[n]=r;return t}function un(e){return e?`${e}T00:00:00Z`:null}function dn(e){if(!e)return null;let t=new Date(`${e}T00:00:00Z`);return t.setUTCDate(t.getUTCDate()+1),t.toISOString()}var pn=e=>e?new Date(e).toISOString():null;var ct=50,Fe=Ee.filter(e=>e!=="REMOVED");function mn({token:e,live:t}){let[n,r]=b({first:ct}),[s,o]=b(null),[i,u]=b({}),[d,c]=b({}),[l,f]=b(null);M(()=>{let m=!1;return B(e,Kt,n).then(g=>{if(m)return;o(g.sequences);let w={};for(let{node:k}of g.sequences.edges)w[k.id]=ge(k.statusCounts);u(w)}).catch(g=>!m&&f(g.message)),()=>{m=!0}},[n]);let a=s?s.edges.map(m=>m.node.id):[];return M(()=>{if(a.length)return t.subscribe({query:Be,variables:{ids:a}},({sequencesStatusCounts:m})=>{let g=ge(m.counts);u(w=>{let k=w[m.sequenceId]||{},$=Fe.filter(_=>(k[_]||0)!==(g[_]||0));return $.length&&(c(_=>({..._,[m.sequenceId]:new Set($)})),setTimeout(()=>c(_=>({..._,[m.sequenceId]:new Set})),2e3)),{...w,[m.sequenceId]:g}})},m=>f(m.message))},[a.join(",")]),l?p`<p class="error" role="alert">${l}</p>`:s?p`
    <h1>Sequences</h1>
    <table class="grid sequences">
      <caption>${N(s.totalCount)} sequences; counts per status, live</caption>
      <thead><tr>
        <th scope="col">Sequence</th><th scope="col">Steps</th>
        ${Fe.map(m=>p`<th scope="col" class="num">${_e(m)}</th>`)}
        <th scope="col" class="num">Total</th>
      </tr></thead>
      <tbody>
        ${s.edges.map(({node:m})=>{let g=i[m.id]||{},w=Fe.reduce(($,_)=>$+(g[_]||0),0),k=d[m.id]||new Set;return p`<tr data-sequence=${m.id}>
            <th scope="row"><a href=${`#/sequences/${encodeURIComponent(m.id)}`}>${m.name}</a>
              ${!m.active&&p` <span class="tag">off</span>`}
              ${m.archived&&p` <span class="tag">archived</span>`}</th>
            <td class="num">${m.steps.length}</td>
            ${Fe.map($=>p`<td class=${`num ${k.has($)?"tick":""}`} data-status=${$}>${N(g[$])}</td>`)}
            <td class="num">${N(w)}</td>
          </tr>`})}
      </tbody>
    </table>
    <nav class="pager" aria-label="Sequence pages">
      <button type="button" disabled=${!s.pageInfo.hasPreviousPage}
        onClick=${()=>r({last:ct,before:s.pageInfo.startCursor})}>Previous</button>
      <button type="button" disabled=${!s.pageInfo.hasNextPage}
        onClick=${()=>r({first:ct,after:s.pageInfo.endCursor})}>Next</button>
    </nav>`:p`<p aria-busy="true">Loading sequences…</p>`}var ut={status:null,step:"",enrolledBy:"",search:"",from:"",to:""},He=e=>!!(e.step||e.enrolledBy||e.search||e.from||e.to);function We(e,t=!0){let n={};return t&&e.status&&(n.statuses=[e.status]),n.includeRemoved=!t||e.status==="REMOVED",e.step&&(n.steps=[Number(e.step)]),e.enrolledBy&&(n.enrolledByIds=[e.enrolledBy]),e.search.trim()&&(n.search=e.search.trim()),e.from&&(n.enrolledAfter=un(e.from)),e.to&&(n.enrolledBefore=dn(e.to)),n}function fn({filters:e,onChange:t,steps:n,users:r}){let[s,o]=b(e.search);M(()=>{if(s===e.search)return;let u=setTimeout(()=>t({...e,search:s}),300);return()=>clearTimeout(u)},[s]);let i=u=>d=>t({...e,[u]:d.currentTarget.value});return p`
    <form class="filters" role="search" aria-label="Filter contacts" onSubmit=${u=>{u.preventDefault(),t({...e,search:s})}}>
      <div class="field grow">
        <label for="f-search">Search</label>
        <input id="f-search" type="search" placeholder="Name or email" value=${s}
               onInput=${u=>o(u.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="f-step">Step</label>
        <select id="f-step" value=${e.step} onChange=${i("step")}>
          <option value="">Any step</option>
          ${n.map(u=>p`<option value=${String(u.position)}>Step ${u.position} · ${u.channel==="SMS"?"SMS":"Email"}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-user">Enrolled by</label>
        <select id="f-user" value=${e.enrolledBy} onChange=${i("enrolledBy")}>
          <option value="">Anyone</option>
          ${r.map(u=>p`<option value=${u.id}>${u.name}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="f-from">Enrolled from</label>
        <input id="f-from" type="date" value=${e.from} onChange=${i("from")} />
      </div>
      <div class="field">
        <label for="f-to">Enrolled until</label>
        <input id="f-to" type="date" value=${e.to} onChange=${i("to")} />
      </div>
      <button type="button" class="link" disabled=${!He(e)&&!s}
        onClick=${()=>{o(""),t({...ut,status:e.status})}}>Clear filters</button>
    </form>`}function ze({title:e,onClose:t,children:n,className:r="",describedBy:s}){let o=ce(null),i=ve(()=>At("dialog-title"),[]);M(()=>{let d=document.activeElement,c=o.current;return c.showModal(),(c.querySelector("[data-autofocus]")||c.querySelector("input, select, textarea, .dialog-body button")||c.querySelector("button"))?.focus(),()=>{c.open&&c.close(),(d&&d.isConnected?d:document.getElementById("main"))?.focus()}},[]);let u=d=>{d.preventDefault(),t()};return p`
    <dialog ref=${o} class=${`modal ${r}`} aria-labelledby=${i}
            aria-describedby=${s} onCancel=${u}>
      <header class="dialog-head">
        <h2 id=${i}>${e}</h2>
        <button type="button" class="icon" onClick=${t} aria-label="Close">×</button>
      </header>
      <div class="dialog-body">${n}</div>
    </dialog>`}var ke=10,_n=[{key:"pause",label:"Pause",verb:"pause",done:"Paused",undo:!0},{key:"resume",label:"Resume",verb:"resume",done:"Resumed",undo:!0},{key:"finish",label:"Mark as finished",verb:"mark as finished",done:"Marked finished",undo:!0},{key:"remove",label:"Remove from sequence",verb:"remove",done:"Removed",undo:!0},{key:"restart",label:"Restart",verb:"restart in a clone",done:"Restarted",undo:!0},{key:"group",label:"Add to group",verb:"add to the group",done:"Added to the group",undo:!1},{key:"message",label:"Send message",verb:"send the message to",done:"Sent to",undo:!1}],Jn=()=>crypto.randomUUID?crypto.randomUUID():`${Date.now()}-${Math.random()}`;function Yn({action:e,options:t,set:n,meta:r}){let s=i=>t[i]??"",o=i=>u=>n({...t,[i]:u.currentTarget.value});switch(e.key){case"pause":return p`<div class="field"><label for="o-resume">Resume automatically on (optional)</label>
        <input id="o-resume" type="datetime-local" value=${s("resumeAt")} onChange=${o("resumeAt")} /></div>`;case"resume":return p`<div class="field"><label for="o-resume">Resume on (empty: now)</label>
        <input id="o-resume" type="datetime-local" value=${s("resumeAt")} onChange=${o("resumeAt")} /></div>`;case"finish":return p`<div class="field"><label for="o-reason">Reason</label>
        <select id="o-reason" value=${s("reason")} onChange=${o("reason")} required>
          <option value="">Choose a reason…</option>
          ${ln.map(([i,u])=>p`<option value=${i}>${u}</option>`)}
        </select></div>`;case"restart":return p`<div class="field"><label for="o-name">Name of the clone to restart in</label>
        <input id="o-name" value=${s("newSequenceName")} onInput=${o("newSequenceName")} /></div>`;case"group":return p`<div class="field"><label for="o-group">Group</label>
        <select id="o-group" value=${s("groupId")} onChange=${o("groupId")} required>
          <option value="">Choose a group…</option>
          ${r.groups.map(i=>p`<option value=${i.id}>${i.name}</option>`)}
        </select></div>`;case"message":return p`
        <div class="field"><label for="o-channel">Channel</label>
          <select id="o-channel" value=${s("channel")||"SMS"} onChange=${o("channel")}>
            <option value="SMS">Text message (SMS)</option><option value="EMAIL">Email</option>
          </select></div>
        ${t.channel==="EMAIL"&&p`<div class="field"><label for="o-subject">Subject</label>
          <input id="o-subject" value=${s("subject")} onInput=${o("subject")} /></div>`}
        <div class="field"><label for="o-body">Message (each contact gets it on its own)</label>
          <textarea id="o-body" rows="4" value=${s("body")} onInput=${o("body")} required /></div>`;default:return null}}function Zn(e,t,n){let r={selection:n};return(e.key==="pause"||e.key==="resume")&&(r.resumeAt=pn(t.resumeAt)),e.key==="finish"&&(r.reason=t.reason||null),e.key==="restart"&&(r.newSequenceName=t.newSequenceName||null),e.key==="group"&&(r.groupId=t.groupId||null),e.key==="message"&&(r.channel=t.channel||"SMS",r.body=t.body||"",r.channel==="EMAIL"&&(r.subject=t.subject||null)),r}function Xn(e,t){return e.key==="finish"&&!t.reason?"Choose a reason.":e.key==="group"&&!t.groupId?"Choose a group.":e.key==="message"&&!(t.body||"").trim()?"Write the message.":null}function hn({skipped:e}){return!e||!e.length?null:p`<ul class="skipped">
    ${e.map(t=>p`<li><strong>${N(t.count)}</strong> skipped: ${xe(t.reason)} — ${t.message}</li>`)}
  </ul>`}function eo({errors:e}){return!e||!e.length?null:p`<div class="error" role="alert">${e.map(t=>p`<p>${t.message}${t.field?` (${t.field.join(".")})`:""}</p>`)}</div>`}function gn({action:e,count:t,selection:n,meta:r,token:s,onClose:o,onDone:i}){let[u,d]=b(()=>e.key==="restart"?{newSequenceName:`${r.sequence.name} (restart)`}:{}),[c,l]=b(null),[f,a]=b(null),[m,g]=b(!1),w=ve(Jn,[]),k=ce(null);M(()=>{c&&k.current?.focus()},[c]);let $=async S=>{let F=Xn(e,u);if(F){a([{message:F}]);return}g(!0),a(null);try{let P={...Zn(e,u,n),dryRun:S};S||(P.idempotencyKey=w);let{result:T}=await B(s,on[e.key],{input:P});T.userErrors.length?(a(T.userErrors),l(null)):S?l(T):i(e,T)}catch(P){a([{message:P.message}])}finally{g(!1)}},_=S=>{d(S),l(null)};return p`
    <${ze} title=${`${e.label}: ${N(t)} selected`} onClose=${o}>
      <form class="bulk-form" onSubmit=${S=>{S.preventDefault(),$(!c)}}>
        <${Yn} action=${e} options=${u} set=${_} meta=${r} />
        <${eo} errors=${f} />
        ${c&&p`
          <section class="preview" aria-live="polite" aria-labelledby="preview-title">
            <h3 id="preview-title">Dry run: nothing changed yet</h3>
            <p>Will ${e.verb} <strong>${N(c.changedCount)}</strong> of ${N(t)}.</p>
            <${hn} skipped=${c.skipped} />
          </section>`}
        <div class="actions">
          <button type="button" onClick=${o}>Cancel</button>
          ${c?p`<button type="submit" class="primary" ref=${k} disabled=${m||c.changedCount===0}>
                Confirm: ${e.verb} ${N(c.changedCount)}</button>`:p`<button type="submit" class="primary" disabled=${m}>Preview (dry run)</button>`}
        </div>
      </form>
    <//>`}function bn({outcome:e,token:t,onUndone:n,onDismiss:r}){let[s,o]=b(!1),[i,u]=b(null),{action:d,result:c}=e,l=async()=>{o(!0);try{let{result:f}=await B(t,rn,{input:{bulkOperationId:c.bulkOperationId}});f.userErrors.length?u(f.userErrors[0].message):n(f)}catch(f){u(f.message)}finally{o(!1)}};return p`
    <div class="banner" role="status">
      <p><strong>${d.done} ${N(c.changedCount)}.</strong>
        ${c.skipped.length?" Some were left as they were:":""}</p>
      <${hn} skipped=${c.skipped} />
      ${i&&p`<p class="error" role="alert">${i}</p>`}
      <div class="actions">
        ${d.undo&&c.bulkOperationId&&p`<button type="button" onClick=${l} disabled=${s}>Undo</button>`}
        <button type="button" onClick=${r}>Dismiss</button>
      </div>
    </div>`}function yn({token:e,enrollmentId:t,onClose:n}){let[r,s]=b(null),[o,i]=b([]),[u,d]=b(null),c=async f=>{try{let{node:a}=await B(e,nn,{id:t,after:f});if(!a){d("This enrollment is gone.");return}s(a),i(m=>[...f?m:[],...a.activities.edges.map(g=>g.node)])}catch(a){d(a.message)}};M(()=>{c(null)},[t]);let l=r;return p`
    <${ze} className="drawer" title=${l?l.contact.name:"Enrollment"} onClose=${n}>
      ${u&&p`<p class="error" role="alert">${u}</p>`}
      ${!l&&!u&&p`<p aria-busy="true">Loading…</p>`}
      ${l&&p`
        <dl class="facts">
          <dt>Status</dt><dd><span class=${`status s-${l.status}`}>${he(l.status,l.reason)}</span></dd>
          <dt>Email</dt><dd>${l.contact.email||"—"}</dd>
          <dt>Phone</dt><dd>${l.contact.phone||"—"}</dd>
          <dt>Current step</dt><dd>${l.currentStep??"—"}</dd>
          <dt>Enrolled</dt><dd>${oe(l.enrolledAt)}${l.enrolledBy?` by ${l.enrolledBy.name}`:""}</dd>
          ${l.resumeAt&&p`<dt>Resumes</dt><dd>${oe(l.resumeAt)}</dd>`}
          ${l.nextSend&&p`<dt>Next send</dt><dd>Step ${l.nextSend.step} · ${l.nextSend.at?oe(l.nextSend.at):xe(l.nextSend.waitingFor)}</dd>`}
          ${l.finishedAt&&p`<dt>Finished</dt><dd>${oe(l.finishedAt)}</dd>`}
        </dl>
        <h3>Activity (${l.activities.totalCount})</h3>
        ${o.length===0&&p`<p>No activity yet.</p>`}
        <ol class="activity">
          ${o.map(f=>p`<li>
            <span class="kind">${xe(f.kind)}</span>
            ${f.step!=null&&p` <span class="muted">step ${f.step}</span>`}
            <time datetime=${f.at}>${oe(f.at)}</time>
            ${f.detail&&p`<div class="detail">${f.detail}</div>`}
          </li>`)}
        </ol>
        ${l.activities.pageInfo.hasNextPage&&p`<button type="button" onClick=${()=>c(l.activities.pageInfo.endCursor)}>Load more</button>`}`}
    <//>`}function $n({steps:e}){if(!e||!e.length)return null;let t=Math.max(1,...e.map(n=>n.reached));return p`
    <section class="funnel" aria-labelledby="funnel-title">
      <h2 id="funnel-title">Funnel</h2>
      <ol>
        ${e.map(n=>p`<li>
          <div class="funnel-head">
            <span>Step ${n.position} · ${n.channel==="SMS"?"SMS":"Email"}</span>
            <strong>${N(n.reached)} reached</strong>
          </div>
          <div class="bar" aria-hidden="true"><span style=${{width:`${100*n.reached/t}%`}}></span></div>
          <p class="muted small">${N(n.active)} active · ${N(n.paused)} paused ·
            ${N(n.finished.total)} finished (${N(n.finished.responded)} responded) ·
            ${N(n.bounced+n.failed)} bounced/failed · ${N(n.notSent)} not sent</p>
        </li>`)}
      </ol>
    </section>`}function vn({rows:e,selection:t,setSelection:n,highlighted:r,onOpen:s,caption:o}){let i=l=>t.mode==="all"?!t.excluded.has(l.id):t.ids.has(l.id),u=l=>{if(t.mode==="all"){let f=new Set(t.excluded);f.has(l.id)?f.delete(l.id):f.add(l.id),n({...t,excluded:f})}else{let f=new Map(t.ids);f.has(l.id)?f.delete(l.id):f.set(l.id,l),n({...t,ids:f})}},d=e.length>0&&e.every(i);return p`
    <table class="grid contacts">
      <caption class="visually-hidden">${o}</caption>
      <thead><tr>
        <th scope="col" class="check"><input type="checkbox" aria-label="Select every contact on this page"
          checked=${d} onChange=${()=>{if(t.mode==="all"){let l=new Set(t.excluded);for(let f of e)d?l.add(f.id):l.delete(f.id);n({...t,excluded:l})}else{let l=new Map(t.ids);for(let f of e)d?l.delete(f.id):l.set(f.id,f);n({...t,ids:l})}}} disabled=${e.length===0} /></th>
        <th scope="col">Contact</th><th scope="col">Status</th><th scope="col" class="num">Step</th>
        <th scope="col">Enrolled by</th><th scope="col">Enrolled</th><th scope="col">Status changed</th>
      </tr></thead>
      <tbody>
        ${e.length===0&&p`<tr><td colspan="7" class="empty">No contacts match these filters.</td></tr>`}
        ${e.map(l=>p`
          <tr key=${l.id} data-id=${l.id} data-status=${l.status} class=${r[l.id]?"changed":""}>
            <td class="check"><input type="checkbox" aria-label=${`Select ${l.contact.name}`}
              checked=${i(l)} onChange=${()=>u(l)} /></td>
            <td><button type="button" class="link contact" onClick=${()=>s(l.id)}>${l.contact.name}</button>
              <div class="muted small">${l.contact.email||l.contact.phone||""}</div></td>
            <td><span class=${`status s-${l.status}`}>${he(l.status,l.reason)}</span>
              ${l.resumeAt&&p`<div class="muted small">resumes ${oe(l.resumeAt)}</div>`}</td>
            <td class="num">${l.currentStep??"—"}</td>
            <td>${l.enrolledBy?l.enrolledBy.name:"—"}</td>
            <td>${cn(l.enrolledAt)}</td>
            <td>${oe(l.statusChangedAt)}</td>
          </tr>`)}
      </tbody>
    </table>`}var Ge=25,Sn=4e3,je={mode:"ids",ids:new Map,excluded:new Set},Ve=e=>e.edges.map(t=>t.node);function En({token:e,live:t,sequenceId:n,canEdit:r}){let[s,o]=b(null),[i,u]=b(null),[d,c]=b(ut),[l,f]=b({first:Ge}),[a,m]=b(null),[g,w]=b(null),[k,$]=b({}),[_,S]=b(null),[F,P]=b([]),[T,W]=b(je),[Q,J]=b({}),[L,Y]=b([]),[be,de]=b(null),[v,C]=b(null),[y,x]=b(null),A=ce(null),O=ce(d);O.current=d,M(()=>{B(e,Yt,{id:n}).then(h=>{if(!h.sequence){u("No such sequence in this workspace.");return}o({sequence:h.sequence,users:Ve(h.users),groups:Ve(h.groups),sequences:Ve(h.sequences)}),P(h.sequence.stepCounts)}).catch(h=>u(h.message))},[n]);let E=()=>B(e,Xt,{seq:n,filter:We(O.current,!1)}).then(h=>$(ge(h.enrollments.statusCounts))).catch(h=>u(h.message));if(M(()=>{s&&E()},[s,d.step,d.enrolledBy,d.search,d.from,d.to]),M(()=>{if(!s)return;let h=!1;return B(e,Zt,{seq:n,filter:We(d),...l}).then(K=>{h||(m(Ve(K.enrollments)),w(K.enrollments.pageInfo))}).catch(K=>!h&&u(K.message)),()=>{h=!0}},[s,d,l]),M(()=>{if(!s)return;let h={query:en,variables:{seq:n,since:s.sequence.eventCursor}},K=t.subscribe(h,({enrollmentStatusChanged:ee})=>{h.variables.since=ee.cursor;let te=ee.enrollment;m(G=>G&&G.map(ie=>ie.id===te.id?te:ie)),W(G=>G.ids.has(te.id)?{...G,ids:new Map(G.ids).set(te.id,te)}:G),J(G=>({...G,[te.id]:Date.now()})),setTimeout(()=>J(G=>{let ie={...G};return ie[te.id]&&Date.now()-ie[te.id]>=Sn&&delete ie[te.id],ie}),Sn+50),Y(G=>[ee,...G].slice(0,30)),He(O.current)&&(clearTimeout(A.current),A.current=setTimeout(E,400))},ee=>u(ee.message)),Cn=t.subscribe({query:Be,variables:{ids:[n]}},({sequencesStatusCounts:ee})=>S(ge(ee.counts))),Tn=t.subscribe({query:tn,variables:{seq:n}},({sequenceStepCounts:ee})=>P(ee.steps));return()=>{K(),Cn(),Tn(),clearTimeout(A.current)}},[s]),i)return p`<p class="error" role="alert">${i}</p>`;if(!s)return p`<p aria-busy="true">Loading…</p>`;let z=!He(d)&&_?_:k,Z=Ee.filter(h=>h!=="REMOVED").reduce((h,K)=>h+(z[K]||0),0),re=d.status?z[d.status]||0:Z,X=T.mode==="all"?Math.max(0,re-T.excluded.size):T.ids.size,U=T.mode==="all"?{sequenceId:n,filter:We(d),excludeIds:[...T.excluded]}:{ids:[...T.ids.keys()]},q=h=>{c(h),f({first:Ge}),W(je)},we=(h,K)=>{de(null),C({action:h,result:K}),W(je),E()};return p`
    <nav class="crumbs" aria-label="Breadcrumb"><a href="#/">Sequences</a> › <span aria-current="page">${s.sequence.name}</span></nav>
    <h1>${s.sequence.name} <span class="muted">· Contacts</span></h1>
    <div class="layout">
      <div class="primary-col">
        <div class="tabbar" role="group" aria-label="Status">
          <button type="button" aria-pressed=${d.status===null} onClick=${()=>q({...d,status:null})}>
            All <span class="count" data-status="ALL">${N(Z)}</span></button>
          ${Ee.map(h=>p`<button type="button" aria-pressed=${d.status===h}
              onClick=${()=>q({...d,status:h})}>
            ${_e(h)} <span class="count" data-status=${h}>${N(z[h])}</span></button>`)}
        </div>
        <${fn} filters=${d} onChange=${q} steps=${s.sequence.steps} users=${s.users} />
        ${v&&p`<${bn} outcome=${v} token=${e}
            onUndone=${h=>{C({action:{done:"Undone: put back",undo:!1},result:h}),E()}}
            onDismiss=${()=>C(null)} />`}
        <${to} selection=${T} selected=${X} matching=${re}
          pageRows=${a||[]} canEdit=${r} onAction=${de}
          onSelectAll=${()=>W({mode:"all",ids:new Map,excluded:new Set})}
          onClear=${()=>W(je)} />
        ${a&&p`<${vn} rows=${a} selection=${T} setSelection=${W}
            highlighted=${Q} onOpen=${x} caption=${`${s.sequence.name}: contacts, ${N(re)} matching`} />`}
        ${g&&p`<nav class="pager" aria-label="Contact pages">
          <button type="button" disabled=${!g.hasPreviousPage}
            onClick=${()=>f({last:Ge,before:g.startCursor})}>Previous page</button>
          <button type="button" disabled=${!g.hasNextPage}
            onClick=${()=>f({first:Ge,after:g.endCursor})}>Next page</button>
        </nav>`}
      </div>
      <aside class="side-col">
        <${$n} steps=${F} />
        <section class="changes" aria-labelledby="changes-title">
          <h2 id="changes-title">Live changes</h2>
          <div role="log" aria-live="polite" aria-labelledby="changes-title"><ol class="change-log">
            ${L.length===0&&p`<li class="muted">None since you opened this page.</li>`}
            ${L.map(h=>p`<li data-number=${h.number} data-enrollment=${h.enrollment.id}>
              <strong>${h.enrollment.contact.name}</strong>: ${h.fromStatus?_e(h.fromStatus):"new"} → ${he(h.toStatus,h.reason)}
              ${h.actor&&p` <span class="muted">by ${h.actor.name}</span>`}</li>`)}
          </ol></div>
        </section>
      </aside>
    </div>
    ${be&&p`<${gn} action=${be} count=${X} selection=${U}
        meta=${s} token=${e} onClose=${()=>de(null)} onDone=${we} />`}
    ${y&&p`<${yn} token=${e} enrollmentId=${y} onClose=${()=>x(null)} />`}`}function to({selection:e,selected:t,matching:n,pageRows:r,canEdit:s,onAction:o,onSelectAll:i,onClear:u}){if(t===0&&e.mode==="ids")return null;let d=r.length>0&&r.every(c=>e.ids.has(c.id));return p`
    <div class="selection-bar" role="region" aria-label="Selection">
      <p><strong>${N(t)}</strong> selected
        ${e.mode==="all"&&p` (all ${N(n)} that match${e.excluded.size?`, less ${e.excluded.size}`:""})`}
        ${e.mode==="ids"&&d&&n>e.ids.size&&p`
          <button type="button" class="link" onClick=${i}>Select all ${N(n)} that match</button>`}
        <button type="button" class="link" onClick=${u}>Clear selection</button></p>
      ${s?p`<div class="bulk-actions">
            ${_n.map(c=>{let l=c.key==="message"&&t>ke;return p`<button type="button" disabled=${l||t===0}
                title=${l?`At most ${ke} contacts`:void 0}
                onClick=${()=>o(c)}>${c.label}</button>`})}
            ${t>ke&&p`<span class="muted small">Send message: at most ${ke} contacts.</span>`}
          </div>`:p`<p class="muted">Your token can read only (viewer).</p>`}
    </div>`}var dt="seqgql.token";function xn(){let e=/^#\/sequences\/([^/]+)$/.exec(location.hash);return e?{sequenceId:decodeURIComponent(e[1])}:{}}var no={connecting:"Connecting…",connected:"Live",reconnecting:"Reconnecting…"};function kn(){let[e,t]=b(()=>sessionStorage.getItem(dt)),[n,r]=b(null),[s,o]=b(xn),[i,u]=b(null),[d,c]=b("connecting");M(()=>{let f=()=>o(xn());return window.addEventListener("hashchange",f),()=>window.removeEventListener("hashchange",f)},[]);let l=()=>{sessionStorage.removeItem(dt),t(null),r(null)};return M(()=>{if(!e)return;let f=Vt(e,c);return u(f),n||B(e,Le).then(a=>r(a.viewer)).catch(a=>a.code==="UNAUTHENTICATED"&&l()),()=>{f.dispose(),u(null)}},[e]),e?p`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="#/">seqgql</a>
      <nav aria-label="Main"><a href="#/">Sequences</a></nav>
      <span class=${`connection ${d}`} role="status">${no[d]}</span>
      ${n&&p`<span class="who">${n.name} · ${n.role.toLowerCase()}</span>`}
      <button type="button" onClick=${l}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      ${i&&(s.sequenceId?p`<${En} key=${s.sequenceId} token=${e} live=${i}
                 sequenceId=${s.sequenceId} canEdit=${n?n.role!=="VIEWER":!0} />`:p`<${mn} token=${e} live=${i} />`)}
    </main>`:p`<${sn} onSignedIn=${(f,a)=>{sessionStorage.setItem(dt,f),r(a),t(f)}} />`}var wn=document.getElementById("app");wn.textContent="";Ct(p`<${kn} />`,wn);
